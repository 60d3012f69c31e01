namespace LlmAspire.Inference.Models.Hub;

/// <summary>A transfer broke off in a way the next try may mend (connection lost, stalled, 5xx); the partial file is kept.</summary>
internal sealed class HubTransferException : Exception
{
    public HubTransferException()
    {
    }

    public HubTransferException(string message)
        : base(message)
    {
    }

    public HubTransferException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
