using System.Globalization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// Service-level objectives for goodput, as vLLM's <c>--goodput ttft:500 tpot:50 e2el:2000</c> (milliseconds): a
/// request is good when it succeeded and meets every objective given; a request with one output token has TPOT 0.
/// </summary>
public sealed record GoodputSlo(double? TtftMs, double? TpotMs, double? E2eMs)
{
    public bool IsEmpty => TtftMs is null && TpotMs is null && E2eMs is null;

    public bool Meets(RequestOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome.Success
            && (TtftMs is not { } ttft || outcome.TtftMs <= ttft)
            && (TpotMs is not { } tpot || (outcome.TpotMs ?? 0) <= tpot)
            && (E2eMs is not { } e2e || outcome.LatencyMs <= e2e);
    }

    /// <summary>Parses <c>name:ms</c> pairs (ttft, tpot, e2el); throws <see cref="FormatException"/> on anything else.</summary>
    public static GoodputSlo Parse(IEnumerable<string> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        double? ttft = null, tpot = null, e2e = null;
        foreach (string pair in pairs.SelectMany(p => p.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)))
        {
            string[] parts = pair.Split(':');
            if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) || ms < 0)
            {
                throw new FormatException($"'{pair}' is not name:milliseconds (ttft, tpot or e2el).");
            }

            switch (parts[0].ToLowerInvariant())
            {
                case "ttft": ttft = ms; break;
                case "tpot": tpot = ms; break;
                case "e2el" or "e2e": e2e = ms; break;
                default: throw new FormatException($"Unknown SLO '{parts[0]}': use ttft, tpot or e2el.");
            }
        }

        return new GoodputSlo(ttft, tpot, e2e);
    }
}
