namespace LlmAspire.Gateway.RateLimiting;

/// <summary>Where an instant falls among fixed windows: the window's index and how far into it (0 ≤ fraction &lt; 1).</summary>
public readonly record struct WindowPosition(long Index, double ElapsedFraction, TimeSpan Window)
{
    /// <summary>The weight of the previous window's count: the part of it that still overlaps the sliding window.</summary>
    public double PreviousWeight => 1 - ElapsedFraction;

    /// <summary>Time left in the current window.</summary>
    public TimeSpan UntilWindowEnd => Window * (1 - ElapsedFraction);
}

/// <summary>
/// The sliding-window counter (as Cloudflare and others use it): counts are kept per fixed window, and the
/// usage over the last window length is estimated as <c>previous × (1 − elapsed fraction) + current</c>.
/// Pure functions of the counts and the time, so the Redis script and the in-memory store decide alike.
/// </summary>
public static class SlidingWindow
{
    /// <summary>The window of the per-minute limits.</summary>
    public static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private const double Epsilon = 1e-9;

    /// <summary>Locates <paramref name="now"/> among windows of length <paramref name="window"/> counted from the Unix epoch.</summary>
    public static WindowPosition Locate(DateTimeOffset now, TimeSpan window)
    {
        var windowMs = (long)window.TotalMilliseconds;
        if (windowMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "The window must be at least a millisecond.");
        }

        var ms = now.ToUnixTimeMilliseconds();
        var index = Math.DivRem(ms, windowMs, out var elapsed);
        if (elapsed < 0)
        {
            index--;
            elapsed += windowMs;
        }

        return new WindowPosition(index, elapsed / (double)windowMs, window);
    }

    /// <summary>The estimated usage over the last window length.</summary>
    public static double Estimate(long previous, long current, double previousWeight) => (previous * previousWeight) + current;

    /// <summary>Whether <paramref name="cost"/> more fits under <paramref name="limit"/> (a limit ≤ 0 allows everything).</summary>
    public static bool Allows(long limit, long previous, long current, double previousWeight, long cost) =>
        limit <= 0 || Estimate(previous, current, previousWeight) + cost <= limit + Epsilon;

    /// <summary>What is left under <paramref name="limit"/>, rounded down.</summary>
    public static long Remaining(long limit, long previous, long current, double previousWeight) =>
        Math.Max(0, limit - (long)Math.Ceiling(Estimate(previous, current, previousWeight) - Epsilon));

    /// <summary>
    /// How long until <paramref name="cost"/> would fit, if nothing else is spent meanwhile: the previous window's
    /// weight shrinks as the current window goes by, then the current window's count starts to shrink in the next.
    /// Zero when it fits now; for a cost above the limit itself, two windows (it never fits).
    /// </summary>
    public static TimeSpan RetryAfter(long limit, long previous, long current, WindowPosition position, long cost)
    {
        if (Allows(limit, previous, current, position.PreviousWeight, cost))
        {
            return TimeSpan.Zero;
        }

        var window = position.Window;
        if (cost > limit)
        {
            return position.UntilWindowEnd + window;
        }

        var room = (double)(limit - cost - current);
        if (room >= 0 && previous > 0)
        {
            // previous × (1 − f′) ≤ room  ⇔  f′ ≥ 1 − room / previous
            var needed = 1 - (room / previous);
            return window * Math.Max(0, needed - position.ElapsedFraction);
        }

        // Only once this window is the previous one: current × (1 − g) ≤ limit − cost.
        var fractionOfNext = current > 0 ? Math.Max(0, 1 - ((limit - cost) / (double)current)) : 0;
        return position.UntilWindowEnd + (window * fractionOfNext);
    }

    /// <summary>How long until the estimate is back to zero if nothing more is spent.</summary>
    public static TimeSpan ResetAfter(long previous, long current, WindowPosition position)
    {
        if (current > 0)
        {
            return position.UntilWindowEnd + position.Window;
        }

        return previous > 0 ? position.UntilWindowEnd : TimeSpan.Zero;
    }

    /// <summary>A duration as OpenAI's <c>x-ratelimit-reset-*</c> headers write it: <c>120ms</c>, <c>1s</c>, <c>59.5s</c>, <c>6m0s</c>, <c>1h2m3s</c>.</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        if (duration < TimeSpan.FromSeconds(1))
        {
            return $"{Math.Ceiling(duration.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)}ms";
        }

        var text = new System.Text.StringBuilder();
        var hours = (long)duration.TotalHours;
        if (hours > 0)
        {
            text.Append(hours).Append('h');
        }

        if (hours > 0 || duration.Minutes > 0)
        {
            text.Append(duration.Minutes).Append('m');
        }

        var seconds = Math.Round(duration.TotalSeconds - (Math.Floor(duration.TotalMinutes) * 60), 3);
        text.Append(seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)).Append('s');
        return text.ToString();
    }

    /// <summary><c>Retry-After</c> in whole seconds, at least 1.</summary>
    public static int RetryAfterSeconds(TimeSpan duration) => (int)Math.Max(1, Math.Ceiling(duration.TotalSeconds));
}
