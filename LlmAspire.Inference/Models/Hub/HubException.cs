using System.Net;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// The hub answered, but the model cannot be had from it: not found, access denied, a file that fails
/// verification, or a folder that holds no loadable model. Not worth falling back from; fix the reference.
/// </summary>
public class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HubException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public HubException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public HubException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the hub's HTTP status.</summary>
    public HubException(string message, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The hub's HTTP status, when an HTTP answer caused this.</summary>
    public HttpStatusCode? StatusCode { get; }
}
