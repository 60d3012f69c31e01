namespace LlmAspire.Gateway.Responses;

/// <summary>
/// Stored responses of <c>POST /v1/responses</c>, section <c>Gateway:Responses</c>: what <c>previous_response_id</c>,
/// <c>GET</c> and <c>DELETE /v1/responses/{id}</c> read. Kept per API key, in Redis (connection string <c>cache</c>,
/// shared by every gateway) when configured, and in this process's memory (the only store without Redis, the
/// fallback while Redis does not answer).
/// </summary>
public sealed class ResponsesOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Responses";

    /// <summary>
    /// How long a stored response lives. OpenAI keeps them 30 days; a day keeps a busy Redis small while covering a
    /// conversation's pauses. Raise it when the store has room.
    /// </summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The largest entry stored, in bytes of its JSON: the response object plus the conversation's input items. A
    /// bigger one is not stored; its id is remembered as such, so a later <c>previous_response_id</c> or <c>GET</c> says
    /// why it is missing.
    /// </summary>
    public int MaxStoredBytes { get; set; } = 1024 * 1024;

    /// <summary>The memory this process's store may hold, in bytes of stored entries; the oldest-used go first.</summary>
    public long LocalSizeLimitBytes { get; set; } = 64L * 1024 * 1024;

    internal static bool IsValid(ResponsesOptions options) =>
        options.TimeToLive > TimeSpan.Zero && options.MaxStoredBytes >= 1024 && options.LocalSizeLimitBytes >= options.MaxStoredBytes;

    internal const string ValidationMessage =
        "Gateway:Responses:TimeToLive must be positive, MaxStoredBytes at least 1024, and LocalSizeLimitBytes at least MaxStoredBytes.";
}
