using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Sandbox.Security;

/// <summary>Who made a request: the user name and groups, as kube-apiserver's authenticators produce them.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups);

/// <summary>
/// Bearer tokens (a static token table, like <c>--token-auth-file</c>), x509 client certificates
/// signed by the Sandbox CA, and basic auth (for client tests only; real clusters removed it).
/// </summary>
internal sealed class Authenticator(CertificateAuthority? ca)
{
    private readonly ConcurrentDictionary<string, UserInfo> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Password, UserInfo User)> _basic = new(StringComparer.Ordinal);

    public void AddToken(string token, UserInfo user) => _tokens[token] = user;

    public void AddBasicUser(string name, string password, UserInfo user) => _basic[name] = (password, user);

    /// <summary>The user a bearer token belongs to, or null.</summary>
    public UserInfo? ByToken(string token) => _tokens.GetValueOrDefault(token.Trim());

    /// <summary>The user, or null when no credential was presented or it was not valid.</summary>
    public UserInfo? Authenticate(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return _tokens.TryGetValue(header[7..].Trim(), out var user) ? user : null;
        }
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':');
                if (colon > 0 && _basic.TryGetValue(decoded[..colon], out var entry) && entry.Password == decoded[(colon + 1)..]) return entry.User;
            }
            catch (FormatException)
            {
            }
            return null;
        }
        var cert = context.Connection.ClientCertificate;
        if (cert is not null && ca is not null && ca.Issued(cert))
        {
            var cn = cert.GetNameInfo(X509NameType.SimpleName, false);
            var groups = cert.SubjectName.EnumerateRelativeDistinguishedNames()
                .Where(r => r.GetSingleElementType().Value == "2.5.4.10")
                .Select(r => r.GetSingleElementValue() ?? "")
                .ToList();
            return new UserInfo(cn, groups);
        }
        return null;
    }
}
