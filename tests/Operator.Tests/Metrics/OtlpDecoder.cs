using System.Text;

namespace DoraOperator.Operator.Tests.Metrics;

/// <summary>
/// Just enough protobuf to read an OTLP ExportMetricsServiceRequest: resource attributes, and per
/// metric name the attribute sets of its data points (gauge, sum and histogram).
/// </summary>
internal static class OtlpDecoder
{
    public sealed record Request(Dictionary<string, string> Resource, Dictionary<string, List<Dictionary<string, string>>> Metrics);

    public static Request Decode(byte[] payload)
    {
        var resource = new Dictionary<string, string>();
        var metrics = new Dictionary<string, List<Dictionary<string, string>>>();
        foreach (var rm in Fields(payload).Where(f => f.Field == 1))
        {
            foreach (var r in Fields(rm.Bytes!).Where(f => f.Field == 1))
            {
                foreach (var kv in Fields(r.Bytes!).Where(f => f.Field == 1)) Add(resource, kv.Bytes!);
            }
            foreach (var sm in Fields(rm.Bytes!).Where(f => f.Field == 2))
            {
                foreach (var m in Fields(sm.Bytes!).Where(f => f.Field == 2))
                {
                    var fields = Fields(m.Bytes!);
                    var name = Encoding.UTF8.GetString(fields.First(f => f.Field == 1).Bytes!);
                    var points = metrics.TryGetValue(name, out var list) ? list : metrics[name] = [];
                    // gauge = 5, sum = 7, histogram = 9; their data_points = 1; point attributes: number 7, histogram 9.
                    foreach (var data in fields.Where(f => f.Field is 5 or 7 or 9))
                    {
                        foreach (var point in Fields(data.Bytes!).Where(f => f.Field == 1))
                        {
                            var attributes = new Dictionary<string, string>();
                            foreach (var kv in Fields(point.Bytes!).Where(f => f.Field == (data.Field == 9 ? 9 : 7))) Add(attributes, kv.Bytes!);
                            points.Add(attributes);
                        }
                    }
                }
            }
        }
        return new Request(resource, metrics);
    }

    private static void Add(Dictionary<string, string> target, byte[] keyValue)
    {
        var fields = Fields(keyValue);
        var key = Encoding.UTF8.GetString(fields.First(f => f.Field == 1).Bytes!);
        var value = fields.FirstOrDefault(f => f.Field == 2).Bytes is { } any ? Fields(any).FirstOrDefault(f => f.Field == 1).Bytes : null;
        target[key] = value is null ? "" : Encoding.UTF8.GetString(value);
    }

    private static List<(int Field, byte[]? Bytes)> Fields(byte[] data)
    {
        var result = new List<(int, byte[]?)>();
        var i = 0;
        while (i < data.Length)
        {
            var tag = Varint(data, ref i);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: Varint(data, ref i); result.Add((field, null)); break;
                case 1: i += 8; result.Add((field, null)); break;
                case 5: i += 4; result.Add((field, null)); break;
                case 2:
                    var length = (int)Varint(data, ref i);
                    result.Add((field, data[i..(i + length)]));
                    i += length;
                    break;
                default: throw new FormatException($"unsupported wire type {tag & 7}");
            }
        }
        return result;
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }
}
