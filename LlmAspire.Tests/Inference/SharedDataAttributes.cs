namespace LlmAspire.Tests.Inference;

/// <summary>A fact that needs ../shared/models/stories260K (checkpoint and tok512); skipped, with the reason, when absent.</summary>
internal sealed class Stories260KFactAttribute : FactAttribute
{
    public Stories260KFactAttribute()
    {
        if (!File.Exists(TestPaths.Stories260KTokenizer) || !File.Exists(TestPaths.Stories260KCheckpoint))
        {
            Skip = $"Needs the shared stories260K checkpoint and tokenizer in {Path.GetDirectoryName(TestPaths.Stories260KCheckpoint)} (set LLMASPIRE_SHARED_DIR).";
        }
    }
}

/// <summary>A fact that needs ../shared/models/stories260K/tok512.bin; skipped, with the reason, when it is absent.</summary>
internal sealed class Tok512FactAttribute : FactAttribute
{
    public Tok512FactAttribute()
    {
        if (!File.Exists(TestPaths.Stories260KTokenizer))
        {
            Skip = $"Needs the shared tok512 tokenizer at {TestPaths.Stories260KTokenizer} (set LLMASPIRE_SHARED_DIR).";
        }
    }
}

/// <summary>A theory that needs ../shared/models/stories260K/tok512.bin; skipped, with the reason, when it is absent.</summary>
internal sealed class Tok512TheoryAttribute : TheoryAttribute
{
    public Tok512TheoryAttribute()
    {
        if (!File.Exists(TestPaths.Stories260KTokenizer))
        {
            Skip = $"Needs the shared tok512 tokenizer at {TestPaths.Stories260KTokenizer} (set LLMASPIRE_SHARED_DIR).";
        }
    }
}

/// <summary>A theory that needs ../shared/models/stories260K; skipped, with the reason, when absent.</summary>
internal sealed class Stories260KTheoryAttribute : TheoryAttribute
{
    public Stories260KTheoryAttribute()
    {
        if (!File.Exists(TestPaths.Stories260KTokenizer) || !File.Exists(TestPaths.Stories260KCheckpoint))
        {
            Skip = $"Needs the shared stories260K checkpoint and tokenizer in {Path.GetDirectoryName(TestPaths.Stories260KCheckpoint)} (set LLMASPIRE_SHARED_DIR).";
        }
    }
}
