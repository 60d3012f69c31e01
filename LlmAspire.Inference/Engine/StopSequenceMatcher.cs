namespace LlmAspire.Inference.Engine;

/// <summary>
/// Finds stop strings in streamed text, across token boundaries. Text that might be the start of a
/// stop string is held back until it is known not to be; a stop string itself is never emitted.
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private string _pending = string.Empty;

    /// <summary>Creates a matcher; empty strings are ignored.</summary>
    public StopSequenceMatcher(IEnumerable<string>? stops)
    {
        _stops = stops?.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal).ToArray() ?? [];
    }

    /// <summary>True once a stop string was seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Feeds newly decoded text; returns the text that is safe to emit now.</summary>
    public string Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Stopped)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return text;
        }

        string buffer = _pending + text;
        int earliest = -1;
        foreach (string stop in _stops)
        {
            int at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest))
            {
                earliest = at;
            }
        }

        if (earliest >= 0)
        {
            Stopped = true;
            _pending = string.Empty;
            return buffer[..earliest];
        }

        int hold = 0;
        foreach (string stop in _stops)
        {
            for (int length = Math.Min(stop.Length - 1, buffer.Length); length > hold; length--)
            {
                if (buffer.AsSpan(buffer.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    hold = length;
                    break;
                }
            }
        }

        _pending = buffer[^hold..];
        return buffer[..^hold];
    }

    /// <summary>Releases held-back text at the end of a generation that did not stop on a stop string.</summary>
    public string Flush()
    {
        string rest = Stopped ? string.Empty : _pending;
        _pending = string.Empty;
        return rest;
    }
}
