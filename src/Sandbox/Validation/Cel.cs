using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Validation;

/// <summary>An expression outside the supported CEL subset, or one that failed to evaluate.</summary>
internal sealed class CelException(string message) : Exception(message);

/// <summary>
/// A small CEL evaluator for CRD <c>x-kubernetes-validations</c> rules: literals, <c>self</c>, member
/// and index access, <c>has()</c>, <c>timestamp()</c>, <c>duration()</c>, <c>size()</c>, <c>int()</c>,
/// <c>string()</c>, <c>startsWith/endsWith/contains/matches</c>, <c>! - * / % + -</c>, comparisons,
/// <c>in</c>, <c>&amp;&amp; ||</c> and <c>?:</c>. Transition rules (<c>oldSelf</c>) and macros
/// (<c>all</c>, <c>exists</c>, <c>map</c>, <c>filter</c>) are not supported; such rules are skipped.
/// </summary>
internal static class Cel
{
    private sealed class Absent
    {
        public static readonly Absent Value = new();
    }

    public static bool IsSupported(string rule) =>
        !rule.Contains("oldSelf", StringComparison.Ordinal) && !Regex.IsMatch(rule, @"\.(all|exists|exists_one|map|filter)\s*\(");

    /// <summary>Evaluates a rule against <paramref name="self"/>; true when it holds.</summary>
    public static bool Evaluate(string rule, JsonNode? self)
    {
        var parser = new Parser(rule, self);
        var expression = parser.ParseExpression();
        parser.ExpectEnd();
        return expression() is bool b ? b : throw new CelException($"rule does not evaluate to a bool: {rule}");
    }

    /// <summary>A parsed expression; evaluation happens when it is called, so &amp;&amp; and || can short-circuit.</summary>
    private delegate object? Node();

    private sealed partial class Parser(string text, JsonNode? self)
    {
        private int _pos;

        public void ExpectEnd()
        {
            Skip();
            if (_pos < text.Length) throw new CelException($"unexpected '{text[_pos..]}'");
        }

        public Node ParseExpression()
        {
            var condition = ParseOr();
            if (!Accept("?")) return condition;
            var whenTrue = ParseExpression();
            Expect(":");
            var whenFalse = ParseExpression();
            return () => Truthy(condition()) ? whenTrue() : whenFalse();
        }

        private Node ParseOr()
        {
            var left = ParseAnd();
            while (Accept("||"))
            {
                var l = left;
                var r = ParseAnd();
                left = () => Truthy(l()) || Truthy(r());
            }
            return left;
        }

        private Node ParseAnd()
        {
            var left = ParseRelation();
            while (Accept("&&"))
            {
                var l = left;
                var r = ParseRelation();
                left = () => Truthy(l()) && Truthy(r());
            }
            return left;
        }

        private Node ParseRelation()
        {
            var left = ParseAdditive();
            foreach (var op in new[] { "==", "!=", "<=", ">=", "<", ">", "in " })
            {
                if (!Accept(op)) continue;
                var right = ParseAdditive();
                return op switch
                {
                    "==" => () => Equal(left(), right()),
                    "!=" => () => !Equal(left(), right()),
                    "in " => () =>
                    {
                        var needle = left();
                        return right() switch
                        {
                            JsonArray list => list.Any(x => Equal(needle, Value(x))),
                            JsonObject map => needle is string key && map.ContainsKey(key),
                            var other => throw new CelException($"'in' needs a list or map, not {other ?? "null"}"),
                        };
                    },
                    _ => () => CompareOp(op, Compare(left(), right())),
                };
            }
            return left;
        }

        private static bool CompareOp(string op, int c) => op switch
        {
            "<" => c < 0,
            "<=" => c <= 0,
            ">" => c > 0,
            _ => c >= 0,
        };

        private Node ParseAdditive()
        {
            var left = ParseMultiplicative();
            while (true)
            {
                var l = left;
                if (Accept("+"))
                {
                    var r = ParseMultiplicative();
                    left = () => Add(l(), r());
                }
                else if (PeekBinaryMinus() && Accept("-"))
                {
                    var r = ParseMultiplicative();
                    left = () => Subtract(l(), r());
                }
                else
                {
                    return left;
                }
            }
        }

        private Node ParseMultiplicative()
        {
            var left = ParseUnary();
            while (true)
            {
                var l = left;
                string? op = Accept("*") ? "*" : Accept("/") ? "/" : Accept("%") ? "%" : null;
                if (op is null) return left;
                var r = ParseUnary();
                left = () => Arithmetic(op, l(), r());
            }
        }

        private static object Arithmetic(string op, object? a, object? b)
        {
            if (a is long x && b is long y)
            {
                return op switch
                {
                    "*" => x * y,
                    "/" => y == 0 ? throw new CelException("division by zero") : x / y,
                    _ => y == 0 ? throw new CelException("modulus by zero") : x % y,
                };
            }
            return op switch { "*" => Num(a) * Num(b), "/" => Num(a) / Num(b), _ => Num(a) % Num(b) };
        }

        private Node ParseUnary()
        {
            if (Accept("!"))
            {
                var inner = ParseUnary();
                return () => !Truthy(inner());
            }
            if (Accept("-"))
            {
                var inner = ParseUnary();
                return () => inner() switch
                {
                    long l => -l,
                    double d => -d,
                    var other => throw new CelException($"cannot negate {other ?? "null"}"),
                };
            }
            return ParsePostfix(ParsePrimary());
        }

        private Node ParsePostfix(Node value)
        {
            while (true)
            {
                var target = value;
                if (Accept("."))
                {
                    var name = Identifier();
                    if (Accept("("))
                    {
                        var args = Arguments();
                        value = () => Method(target(), name, args.Select(a => a()).ToList());
                    }
                    else
                    {
                        value = () => target() is JsonObject o && o.TryGetPropertyValue(name, out var v) ? Value(v) : Absent.Value;
                    }
                }
                else if (Accept("["))
                {
                    var index = ParseExpression();
                    Expect("]");
                    value = () => (target(), index()) switch
                    {
                        (JsonArray a, long i) when i >= 0 && i < a.Count => Value(a[(int)i]),
                        (JsonObject o, string k) when o.TryGetPropertyValue(k, out var v) => Value(v),
                        _ => Absent.Value,
                    };
                }
                else
                {
                    return value;
                }
            }
        }

        private Node ParsePrimary()
        {
            Skip();
            if (Accept("("))
            {
                var inner = ParseExpression();
                Expect(")");
                return inner;
            }
            if (Accept("["))
            {
                var items = new List<Node>();
                if (!Accept("]"))
                {
                    do items.Add(ParseExpression());
                    while (Accept(","));
                    Expect("]");
                }
                return () => new JsonArray(items.Select(i => ToNode(i())).ToArray());
            }
            if (_pos < text.Length && (text[_pos] == '\'' || text[_pos] == '"'))
            {
                var literal = StringLiteral();
                return () => literal;
            }
            if (_pos < text.Length && char.IsDigit(text[_pos]))
            {
                var number = NumberLiteral();
                return () => number;
            }
            var name = Identifier();
            switch (name)
            {
                case "true": return () => true;
                case "false": return () => false;
                case "null": return () => null;
                case "self": return () => Value(self);
                case "has":
                {
                    Expect("(");
                    var field = ParsePostfix(ParsePrimary());
                    Expect(")");
                    return () => field() is not Absent;
                }
            }
            if (!Accept("(")) throw new CelException($"unknown identifier '{name}'");
            var args = Arguments();
            return () => Function(name, args.Select(a => a()).ToList());
        }

        private List<Node> Arguments()
        {
            var args = new List<Node>();
            if (Accept(")")) return args;
            do args.Add(ParseExpression());
            while (Accept(","));
            Expect(")");
            return args;
        }

        private static object? Function(string name, List<object?> args) => (name, args.Count) switch
        {
            (_, _) when args.Any(a => a is Absent) => throw new CelException("no such key"),
            ("timestamp", 1) => args[0] is string s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new CelException($"timestamp() of invalid value {args[0]}"),
            ("duration", 1) => args[0] is string d ? ParseDuration(d) : throw new CelException("duration() needs a string"),
            ("size", 1) => Size(args[0]),
            ("int", 1) => args[0] switch { long l => l, double d => (long)d, string s when long.TryParse(s, CultureInfo.InvariantCulture, out var l) => l, DateTimeOffset t => t.ToUnixTimeSeconds(), _ => throw new CelException("int() of unsupported value") },
            ("string", 1) => Convert.ToString(args[0], CultureInfo.InvariantCulture),
            _ => throw new CelException($"unsupported function {name}/{args.Count}"),
        };

        private static object? Method(object? target, string name, List<object?> args) => (name, target, args.Count) switch
        {
            ("size", _, 0) => Size(target),
            ("startsWith", string s, 1) => s.StartsWith((string)args[0]!, StringComparison.Ordinal),
            ("endsWith", string s, 1) => s.EndsWith((string)args[0]!, StringComparison.Ordinal),
            ("contains", string s, 1) => s.Contains((string)args[0]!, StringComparison.Ordinal),
            ("matches", string s, 1) => Regex.IsMatch(s, (string)args[0]!, RegexOptions.None, TimeSpan.FromMilliseconds(100)),
            _ => throw new CelException($"unsupported method {name} on {target?.GetType().Name ?? "null"}"),
        };

        private static long Size(object? value) => value switch
        {
            string s => s.Length,
            JsonArray a => a.Count,
            JsonObject o => o.Count,
            _ => throw new CelException("size() of unsupported value"),
        };

        private static TimeSpan ParseDuration(string text)
        {
            var total = TimeSpan.Zero;
            foreach (Match m in Regex.Matches(text, @"(\d+(?:\.\d+)?)(h|ms|m|s)"))
            {
                var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                total += m.Groups[2].Value switch { "h" => TimeSpan.FromHours(n), "m" => TimeSpan.FromMinutes(n), "s" => TimeSpan.FromSeconds(n), _ => TimeSpan.FromMilliseconds(n) };
            }
            return total;
        }

        private static object? Add(object? a, object? b) => (a, b) switch
        {
            (string x, string y) => x + y,
            (DateTimeOffset t, TimeSpan d) => t + d,
            (TimeSpan x, TimeSpan y) => x + y,
            (long x, long y) => x + y,
            _ => Num(a) + Num(b),
        };

        private static object? Subtract(object? a, object? b) => (a, b) switch
        {
            (DateTimeOffset x, DateTimeOffset y) => x - y,
            (DateTimeOffset t, TimeSpan d) => t - d,
            (TimeSpan x, TimeSpan y) => x - y,
            (long x, long y) => x - y,
            _ => Num(a) - Num(b),
        };

        private static bool Equal(object? a, object? b)
        {
            if (a is Absent || b is Absent) throw new CelException("no such key");
            if (a is long or double && b is long or double) return Num(a) == Num(b);
            if (a is JsonNode na || b is JsonNode) return JsonNode.DeepEquals(ToNode(a), ToNode(b));
            return Equals(a, b);
        }

        private static int Compare(object? a, object? b) => (a, b) switch
        {
            (string x, string y) => string.CompareOrdinal(x, y),
            (DateTimeOffset x, DateTimeOffset y) => x.CompareTo(y),
            (TimeSpan x, TimeSpan y) => x.CompareTo(y),
            _ when a is long or double && b is long or double => Num(a).CompareTo(Num(b)),
            _ => throw new CelException($"cannot compare {a ?? "null"} with {b ?? "null"}"),
        };

        private static double Num(object? v) => v switch
        {
            long l => l,
            double d => d,
            _ => throw new CelException($"not a number: {v ?? "null"}"),
        };

        private static bool Truthy(object? v) => v switch
        {
            bool b => b,
            Absent => throw new CelException("no such key"),
            _ => throw new CelException($"not a bool: {v ?? "null"}"),
        };

        private static object? Value(JsonNode? node) => node switch
        {
            null => null,
            JsonObject or JsonArray => node,
            // Every arm is cast to object: string, bool and double all convert implicitly to JsonNode,
            // which would otherwise become the switch's type and re-wrap the values.
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => (object?)(string?)v,
                JsonValueKind.True => (object)true,
                JsonValueKind.False => (object)false,
                JsonValueKind.Number => J.Double(v) is { } d && d % 1 == 0 && Math.Abs(d) < 9e15 ? (object)(long)d : (object?)J.Double(v),
                _ => null,
            },
            _ => null,
        };

        private static JsonNode? ToNode(object? value) => value switch
        {
            null => null,
            JsonNode n => n.DeepClone(),
            string s => JsonValue.Create(s),
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            bool b => JsonValue.Create(b),
            _ => JsonValue.Create(value.ToString()),
        };

        private string StringLiteral()
        {
            var quote = text[_pos++];
            var sb = new System.Text.StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length) _pos++;
                sb.Append(text[_pos++]);
            }
            if (_pos >= text.Length) throw new CelException("unterminated string");
            _pos++;
            return sb.ToString();
        }

        private object NumberLiteral()
        {
            var start = _pos;
            while (_pos < text.Length && (char.IsDigit(text[_pos]) || text[_pos] == '.')) _pos++;
            var s = text[start.._pos];
            if (_pos < text.Length && text[_pos] == 'u') _pos++;
            return s.Contains('.') ? double.Parse(s, CultureInfo.InvariantCulture) : (object)long.Parse(s, CultureInfo.InvariantCulture);
        }

        private string Identifier()
        {
            Skip();
            var start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            if (start == _pos) throw new CelException($"expected an identifier at {_pos} in: {text}");
            return text[start.._pos];
        }

        private bool PeekBinaryMinus()
        {
            Skip();
            return _pos < text.Length && text[_pos] == '-';
        }

        private bool Accept(string token)
        {
            Skip();
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) != 0) return false;
            // Do not take "<" from "<=", "!" from "!=", "|" runs are explicit.
            if (token is "<" or ">" or "!" && _pos + 1 < text.Length && text[_pos + 1] == '=') return false;
            _pos += token.Length;
            return true;
        }

        private void Expect(string token)
        {
            if (!Accept(token)) throw new CelException($"expected '{token}' at {_pos} in: {text}");
        }

        private void Skip()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }
    }
}
