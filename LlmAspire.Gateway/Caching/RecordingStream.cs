using LlmAspire.Gateway.Requests;

namespace LlmAspire.Gateway.Caching;

/// <summary>Sends a streamed response on as it comes (flushes included) while recording it into a <see cref="LiveStream"/>.</summary>
internal sealed class RecordingStream(Stream inner, LiveStream live, Action onFirstWrite) : ObservingWriteStream(inner)
{
    private bool _started;

    protected override void Observe(ReadOnlySpan<byte> data)
    {
        if (!_started)
        {
            _started = true;
            onFirstWrite();
        }

        if (!data.IsEmpty)
        {
            live.Append(data);
        }
    }
}
