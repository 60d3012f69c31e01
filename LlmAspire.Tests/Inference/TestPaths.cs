namespace LlmAspire.Tests.Inference;

/// <summary>Where test data lives: ../shared beside the repository (override with LLMASPIRE_SHARED_DIR).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string SharedDirectory =>
        Environment.GetEnvironmentVariable("LLMASPIRE_SHARED_DIR") is { Length: > 0 } dir ? dir : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string Stories260KCheckpoint => Path.Combine(SharedDirectory, "models", "stories260K", "stories260K.bin");

    public static string Stories260KTokenizer => Path.Combine(SharedDirectory, "models", "stories260K", "tok512.bin");

    /// <summary>A fresh directory under the temp folder, removed by the caller's using.</summary>
    public static TempDirectory CreateTempDirectory() => new();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LlmAspire.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("LlmAspire.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temp directory deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "llmaspire-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still mapped by a native library is removed with the temp folder later.
        }
    }
}
