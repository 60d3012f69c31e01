using System.Text;

namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>A metric family that writes itself in the Prometheus text format.</summary>
internal interface IPrometheusFamily
{
    string Name { get; }

    void Write(StringBuilder text);
}
