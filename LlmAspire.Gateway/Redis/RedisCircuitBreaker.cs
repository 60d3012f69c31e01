using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Redis;

/// <summary>
/// Guards every Redis operation of the gateway: each runs with <see cref="GatewayRedisOptions.OperationTimeout"/>;
/// a failure or timeout opens the circuit for <see cref="GatewayRedisOptions.BreakDuration"/>, during which
/// operations are skipped at once. One warning when it opens, one line when Redis answers again.
/// </summary>
public sealed partial class RedisCircuitBreaker(TimeProvider timeProvider, IOptions<GatewayRedisOptions> options, ILogger<RedisCircuitBreaker> logger)
{
    private long _openUntilTicks;
    private int _open;

    /// <summary>True while Redis is being skipped.</summary>
    public bool IsOpen => timeProvider.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks);

    /// <summary>
    /// Runs <paramref name="operation"/> unless the circuit is open; false (and the default value) when skipped,
    /// failed or timed out. Cancellation by <paramref name="cancellationToken"/> is rethrown.
    /// </summary>
    public async Task<(bool Succeeded, T? Value)> TryRunAsync<T>(string operationName, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (IsOpen)
        {
            return (false, default);
        }

        Task<T>? pending = null;
        try
        {
            pending = operation(cancellationToken);
            var value = await pending.WaitAsync(options.Value.OperationTimeout, timeProvider, cancellationToken);
            OnSuccess();
            return (true, value);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(pending);
            throw;
        }
        catch (Exception exception)
        {
            Observe(pending);
            OnFailure(operationName, exception);
            return (false, default);
        }
    }

    /// <summary>Runs an operation without a result; false when skipped, failed or timed out.</summary>
    public async Task<bool> TryRunAsync(string operationName, Func<CancellationToken, Task> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var (succeeded, _) = await TryRunAsync(
            operationName,
            async token =>
            {
                await operation(token);
                return true;
            },
            cancellationToken);
        return succeeded;
    }

    /// <summary>Runs a synchronous operation (StackExchange.Redis applies its own sync timeout); false when skipped or failed.</summary>
    public bool TryRun<T>(string operationName, Func<T> operation, out T? value)
    {
        ArgumentNullException.ThrowIfNull(operation);
        value = default;
        if (IsOpen)
        {
            return false;
        }

        try
        {
            value = operation();
            OnSuccess();
            return true;
        }
        catch (Exception exception)
        {
            OnFailure(operationName, exception);
            return false;
        }
    }

    private void OnSuccess()
    {
        if (Interlocked.Exchange(ref _open, 0) == 1)
        {
            LogClosed(logger);
        }
    }

    private void OnFailure(string operationName, Exception exception)
    {
        var breakDuration = options.Value.BreakDuration;
        Interlocked.Exchange(ref _openUntilTicks, (timeProvider.GetUtcNow() + breakDuration).UtcTicks);
        if (Interlocked.Exchange(ref _open, 1) == 0)
        {
            LogOpened(logger, operationName, exception.GetType().Name, exception.Message, breakDuration);
        }
    }

    /// <summary>An abandoned operation's failure must not surface as an unobserved task exception.</summary>
    private static void Observe(Task? pending) =>
        pending?.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis failed or was too slow ({Operation}: {ExceptionType}: {ExceptionMessage}); skipping it for {BreakDuration}. "
        + "Meanwhile cached and stored responses come from this gateway's memory only and rate limits are not enforced.")]
    private static partial void LogOpened(ILogger logger, string operation, string exceptionType, string exceptionMessage, TimeSpan breakDuration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answers again: the shared cache and rate limits are back.")]
    private static partial void LogClosed(ILogger logger);
}
