using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Gateway.Routing;

/// <summary>
/// A fact that needs stories260K and a writable <c>/etc/hosts</c> on Linux (root, as the tests run here and in CI);
/// skipped, with the reason, otherwise.
/// </summary>
internal sealed class LoopbackPodsFactAttribute : FactAttribute
{
    public LoopbackPodsFactAttribute()
    {
        if (!File.Exists(TestPaths.Stories260KTokenizer) || !File.Exists(TestPaths.Stories260KCheckpoint))
        {
            Skip = $"Needs the shared stories260K checkpoint and tokenizer in {Path.GetDirectoryName(TestPaths.Stories260KCheckpoint)} (set LLMASPIRE_SHARED_DIR).";
        }
        else if (!HostsFileEntry.IsWritable())
        {
            Skip = $"Needs Linux and a writable {HostsFileEntry.HostsPath} (run as root) to give a test name several loopback addresses.";
        }
    }
}
