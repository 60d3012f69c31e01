using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Responses;

/// <summary>Keeps every log line (message and exception text) of every category, at every level.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception} "
                + (state is IEnumerable<KeyValuePair<string, object?>> values ? string.Join(", ", values.Select(value => $"{value.Key}={value.Value}")) : string.Empty));
    }
}
