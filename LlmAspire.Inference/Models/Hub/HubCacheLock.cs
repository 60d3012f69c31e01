namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// An exclusive lock on one repository revision of the cache, across processes: the lock file opened with
/// <see cref="FileShare.None"/> (an advisory <c>flock</c> on Unix), released when the handle closes or the
/// process dies. The file is never deleted, so two holders can never lock two different files.
/// </summary>
internal static class HubCacheLock
{
    public static async Task<IDisposable> AcquireAsync(HubCacheLayout layout, HubOptions options, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(layout.RevisionDirectory);
        var waiting = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(layout.LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(layout.LockPath))
            {
                if (!waiting)
                {
                    progress?.Report(new HubProgress(HubProgressKind.WaitingForLock, layout.RevisionDirectory));
                    waiting = true;
                }

                await Task.Delay(options.LockPollInterval, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
