using DoraOperator.Sandbox.Http;

namespace DoraOperator.Sandbox.Selectors;

/// <summary>
/// A parsed label selector in the query-string syntax: <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>,
/// <c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c>, <c>!a</c>, joined by commas.
/// </summary>
internal sealed class LabelSelector
{
    private enum Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist }

    private sealed record Requirement(string Key, Op Op, IReadOnlyList<string> Values);

    private readonly List<Requirement> _requirements;

    private LabelSelector(List<Requirement> requirements) => _requirements = requirements;

    public bool IsEmpty => _requirements.Count == 0;

    public static LabelSelector Parse(string? text)
    {
        var requirements = new List<Requirement>();
        if (string.IsNullOrWhiteSpace(text)) return new LabelSelector(requirements);
        var pos = 0;
        while (true)
        {
            SkipSpaces(text, ref pos);
            if (pos >= text.Length) throw Bad(text, "expected a requirement");
            var negate = false;
            if (text[pos] == '!')
            {
                negate = true;
                pos++;
                SkipSpaces(text, ref pos);
            }
            var key = ReadKey(text, ref pos);
            ValidateKey(text, key);
            SkipSpaces(text, ref pos);
            if (negate)
            {
                requirements.Add(new Requirement(key, Op.DoesNotExist, []));
            }
            else if (pos >= text.Length || text[pos] == ',')
            {
                requirements.Add(new Requirement(key, Op.Exists, []));
            }
            else if (text[pos] == '=' || text[pos] == '!')
            {
                Op op;
                if (text[pos] == '!')
                {
                    if (pos + 1 >= text.Length || text[pos + 1] != '=') throw Bad(text, "expected '!='");
                    op = Op.NotEquals;
                    pos += 2;
                }
                else
                {
                    op = Op.Equals;
                    pos += pos + 1 < text.Length && text[pos + 1] == '=' ? 2 : 1;
                }
                SkipSpaces(text, ref pos);
                var value = ReadValue(text, ref pos);
                ValidateValue(text, value);
                requirements.Add(new Requirement(key, op, [value]));
            }
            else
            {
                var word = ReadKey(text, ref pos);
                Op op = word switch
                {
                    "in" => Op.In,
                    "notin" => Op.NotIn,
                    _ => throw Bad(text, $"unexpected '{word}', expected one of: =, ==, !=, in, notin"),
                };
                SkipSpaces(text, ref pos);
                if (pos >= text.Length || text[pos] != '(') throw Bad(text, "expected '(' after " + word);
                var close = text.IndexOf(')', pos);
                if (close < 0) throw Bad(text, "missing ')'");
                var values = text[(pos + 1)..close].Split(',').Select(v => v.Trim()).ToList();
                if (values.Count == 0 || (values.Count == 1 && values[0].Length == 0 && op == Op.In))
                    throw Bad(text, "for 'in', 'notin' operators, values set can't be empty");
                foreach (var v in values) ValidateValue(text, v);
                requirements.Add(new Requirement(key, op, values));
                pos = close + 1;
            }
            SkipSpaces(text, ref pos);
            if (pos >= text.Length) break;
            if (text[pos] != ',') throw Bad(text, $"unexpected character '{text[pos]}' at position {pos}");
            pos++;
        }
        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in _requirements)
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var ok = r.Op switch
            {
                Op.Equals => has && value == r.Values[0],
                Op.NotEquals => !has || value != r.Values[0],
                Op.In => has && r.Values.Contains(value!),
                Op.NotIn => !has || !r.Values.Contains(value!),
                Op.Exists => has,
                Op.DoesNotExist => !has,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }

    private static void SkipSpaces(string s, ref int pos)
    {
        while (pos < s.Length && s[pos] == ' ') pos++;
    }

    private static string ReadKey(string s, ref int pos)
    {
        var start = pos;
        while (pos < s.Length && (char.IsLetterOrDigit(s[pos]) || s[pos] is '-' or '_' or '.' or '/')) pos++;
        return s[start..pos];
    }

    private static string ReadValue(string s, ref int pos)
    {
        var start = pos;
        while (pos < s.Length && s[pos] != ',' && s[pos] != ' ') pos++;
        return s[start..pos];
    }

    private static void ValidateKey(string text, string key)
    {
        if (key.Length == 0) throw Bad(text, "a label key must not be empty");
        var name = key.Contains('/') ? key[(key.LastIndexOf('/') + 1)..] : key;
        if (name.Length is 0 or > 63 || !char.IsLetterOrDigit(name[0]) || !char.IsLetterOrDigit(name[^1]))
            throw Bad(text, $"invalid label key \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
    }

    private static void ValidateValue(string text, string value)
    {
        if (value.Length > 63) throw Bad(text, $"invalid label value: \"{value}\": must be no more than 63 characters");
        foreach (var c in value)
        {
            if (!(char.IsLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw Bad(text, $"invalid label value: \"{value}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'");
        }
    }

    private static ApiException Bad(string text, string why) =>
        ApiException.BadRequest($"unable to parse requirement: {why} (labelSelector \"{text}\")");
}
