using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>The JSON result file of <c>bench serve</c>: what was driven, how, and one <see cref="BenchRun"/> per request rate.</summary>
public sealed record BenchResult
{
    private static readonly JsonSerializerOptions _json = new()
    {
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    [JsonPropertyName("label")]
    public required string Label { get; init; }

    [JsonPropertyName("date")]
    public DateTimeOffset Date { get; init; }

    [JsonPropertyName("base_url")]
    public required string BaseUrl { get; init; }

    [JsonPropertyName("endpoint")]
    public BenchEndpoint Endpoint { get; init; }

    [JsonPropertyName("model")]
    public string? Model { get; init; }

    [JsonPropertyName("dataset")]
    public required string Dataset { get; init; }

    [JsonPropertyName("seed")]
    public int Seed { get; init; }

    [JsonPropertyName("temperature")]
    public double Temperature { get; init; }

    [JsonPropertyName("goodput_slo")]
    public GoodputSlo? Slo { get; init; }

    [JsonPropertyName("machine")]
    public string Machine { get; init; } = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    [JsonPropertyName("runs")]
    public IReadOnlyList<BenchRun> Runs { get; init; } = [];

    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        await using FileStream file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, this, _json, cancellationToken);
    }

    public static async Task<BenchResult> ReadAsync(string path, CancellationToken cancellationToken)
    {
        await using FileStream file = File.OpenRead(path);
        try
        {
            return await JsonSerializer.DeserializeAsync<BenchResult>(file, _json, cancellationToken)
                ?? throw new InvalidDataException($"{path} is not a bench serve result.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not a bench serve result: {ex.Message}", ex);
        }
    }
}
