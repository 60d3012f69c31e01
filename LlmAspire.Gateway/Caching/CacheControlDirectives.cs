using Microsoft.Extensions.Primitives;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// The request's own say: <c>Cache-Control: no-cache</c> skips the lookup (the fresh answer is still stored),
/// <c>no-store</c> keeps the answer out of the cache (a stored one may still be served); both together bypass it.
/// </summary>
public readonly record struct CacheControlDirectives(bool NoCache, bool NoStore)
{
    /// <summary>Reads the directives of a request's <c>Cache-Control</c> (and <c>Pragma: no-cache</c>).</summary>
    public static CacheControlDirectives Parse(StringValues cacheControl, StringValues pragma = default)
    {
        var noCache = false;
        var noStore = false;
        foreach (var value in cacheControl)
        {
            foreach (var directive in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = directive.Split('=', 2)[0].Trim();
                noCache |= name.Equals("no-cache", StringComparison.OrdinalIgnoreCase);
                noStore |= name.Equals("no-store", StringComparison.OrdinalIgnoreCase);
            }
        }

        if (StringValues.IsNullOrEmpty(cacheControl))
        {
            noCache |= pragma.Any(value => value?.Contains("no-cache", StringComparison.OrdinalIgnoreCase) == true);
        }

        return new CacheControlDirectives(noCache, noStore);
    }
}
