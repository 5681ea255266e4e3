using System.Text.RegularExpressions;

namespace DoraOperator.Sandbox.Validation;

/// <summary>Kubernetes name rules (RFC 1123 subdomain and label) with the real server's messages.</summary>
internal static partial class Names
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();

    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string? SubdomainError(string name)
    {
        if (name.Length > 253) return "must be no more than 253 characters";
        return Subdomain().IsMatch(name)
            ? null
            : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    }

    public static string? LabelError(string name)
    {
        if (name.Length > 63) return "must be no more than 63 characters";
        return Label().IsMatch(name)
            ? null
            : "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }

    /// <summary>The 5-character suffix the server appends for <c>generateName</c>.</summary>
    public static string RandomSuffix(int length = 5)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++) chars[i] = Alphabet[Random.Shared.Next(Alphabet.Length)];
        return new string(chars);
    }

    /// <summary>Encodes a number the way the Deployment controller encodes pod-template hashes (no vowels, no look-alikes).</summary>
    public static string SafeEncode(string s)
    {
        var chars = new char[s.Length];
        for (var i = 0; i < s.Length; i++) chars[i] = Alphabet[s[i] % Alphabet.Length];
        return new string(chars);
    }
}
