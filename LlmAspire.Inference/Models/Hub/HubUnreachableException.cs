using System.Net;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// The hub could not be reached (no network, DNS, refused, timed out, 5xx/429, or offline mode) and the model
/// is not cached completely. The one hub failure a server may answer by serving something else.
/// </summary>
public sealed class HubUnreachableException : HubException
{
    /// <summary>Creates the exception.</summary>
    public HubUnreachableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public HubUnreachableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HubUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the hub's HTTP status (5xx, 429).</summary>
    public HubUnreachableException(string message, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, statusCode, innerException)
    {
    }
}
