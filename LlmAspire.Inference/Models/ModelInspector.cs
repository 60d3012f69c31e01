using System.Globalization;
using System.Text;
using Onnx;

namespace LlmAspire.Inference.Models;

/// <summary>
/// What a model folder holds: configuration, parameters, files, opsets, operators, quantization, and the attention path
/// the server will serve it on (with the reason).
/// </summary>
public sealed record ModelInspection(
    string Folder,
    LlamaConfig Config,
    GenAiConfig GenAi,
    IReadOnlyList<(string Name, long Bytes)> Files,
    IReadOnlyList<(string Domain, long Version)> Opsets,
    IReadOnlyList<(string Operator, int Count)> Operators,
    long GraphWeightBytes,
    string Quantization,
    string? Source,
    AttentionPlan Attention)
{
    /// <summary>Reads <paramref name="folder"/>; the ONNX graph is parsed, external weights are not read.</summary>
    public static ModelInspection Inspect(string folder)
    {
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(folder);
        ModelProto model;
        using (FileStream stream = File.OpenRead(Path.Combine(folder, genai.Model.Decoder.Filename)))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        var files = new DirectoryInfo(folder).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => (f.Name, f.Length)).ToList();
        var opsets = model.OpsetImport.Select(o => (o.Domain.Length == 0 ? "ai.onnx" : o.Domain, o.Version)).ToList();
        var operators = model.Graph.Node
            .GroupBy(n => n.Domain.Length == 0 ? n.OpType : $"{n.Domain}.{n.OpType}", StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count()))
            .OrderByDescending(o => o.Item2).ThenBy(o => o.Key, StringComparer.Ordinal)
            .ToList();
        long weightBytes = model.Graph.Initializer.Sum(t => t.RawData.Length > 0
            ? t.RawData.Length
            : long.Parse(t.ExternalData.FirstOrDefault(e => e.Key == "length")?.Value ?? "0", CultureInfo.InvariantCulture));

        string? source = null;
        string architecture = Path.Combine(folder, ModelFolder.ArchitectureFile);
        if (File.Exists(architecture))
        {
            source = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(architecture), ModelJsonContext.Default.ModelArchitecture)?.Source;
        }

        AttentionPlan attention = AttentionPlan.Detect(DecoderGraphSummary.Of(model), genai.Model.Decoder.Inputs);
        return new ModelInspection(folder, config, genai, files, opsets, operators, weightBytes, DescribeQuantization(model), source, attention);
    }

    /// <summary>A human-readable report.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        var c = Config;
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"model folder   {Folder}");
        text.AppendLine(culture, $"type           {GenAi.Model.Type}{(Source is null ? string.Empty : $" (from {Source})")}");
        text.AppendLine(culture, $"architecture   {GenAi.Model.Type} decoder{(File.Exists(Path.Combine(Folder, ModelFolder.ConfigFile)) ? $", {ModelFolder.ConfigFile}" : $", {OnnxExportFolder.ConfigFile} (no {ModelFolder.ConfigFile})")}; attention: {Attention.AttentionOperators}");
        text.AppendLine(culture, $"attention path {Attention.Description}");
        text.AppendLine(culture, $"why            {Attention.Reason}");
        text.AppendLine(culture, $"shape          hidden {c.Dim}, layers {c.Layers}, heads {c.Heads} (kv {c.KvHeads}, head size {c.HeadSize}, cache head size {GenAi.Model.Decoder.HeadSize}), ffn {(c.HiddenDim > 0 ? c.HiddenDim.ToString(culture) : "unknown")}");
        text.AppendLine(culture, $"vocabulary     {c.VocabSize} (bos {GenAi.Model.BosTokenId}, eos {string.Join('/', GenAi.Model.EosTokenId ?? [])}), context {c.ContextLength}");
        text.AppendLine(culture, $"rope / norm    theta {c.RopeTheta}{DescribeRope(c.RopeScaling)}, rms eps {c.NormEpsilon}, tied embeddings {c.TiedEmbeddings}");
        string attention = DescribeAttention(c);
        if (attention.Length > 0)
        {
            text.AppendLine(culture, $"attention      {attention}");
        }

        text.AppendLine(culture, $"parameters     {(c.HiddenDim > 0 ? c.ParameterCount.ToString("N0", culture) : "unknown (no llmaspire.json)")}");
        text.AppendLine(culture, $"graph weights  {GraphWeightBytes:N0} bytes");
        text.AppendLine(culture, $"quantization   {Quantization}");
        text.AppendLine(culture, $"opsets         {string.Join(", ", Opsets.Select(o => $"{o.Domain} {o.Version}"))}");
        text.AppendLine(culture, $"operators      {string.Join(", ", Operators.Select(o => $"{o.Operator} x{o.Count}"))}");
        text.AppendLine("files");
        foreach ((string name, long bytes) in Files)
        {
            text.AppendLine(culture, $"  {name,-28} {bytes,14:N0} bytes");
        }

        return text.ToString();
    }

    private static string DescribeRope(RopeScaling? scaling) => scaling switch
    {
        null => string.Empty,
        { Type: "llama3" } => string.Create(CultureInfo.InvariantCulture, $" (llama3: factor {scaling.Factor}, low {scaling.LowFreqFactor}, high {scaling.HighFreqFactor}, original {scaling.OriginalMaxPositionEmbeddings})"),
        { Type: "longrope" } => string.Create(CultureInfo.InvariantCulture, $" (longrope: short factors up to {scaling.OriginalMaxPositionEmbeddings}, cos/sin × {scaling.CosSinScale:0.####})"),
        { Type: "dynamic" } => string.Create(CultureInfo.InvariantCulture, $" (dynamic: factor {scaling.Factor}, plain up to {scaling.OriginalMaxPositionEmbeddings})"),
        _ => string.Create(CultureInfo.InvariantCulture, $" ({scaling.Type}: factor {scaling.Factor})"),
    };

    private static string DescribeAttention(LlamaConfig c)
    {
        var parts = new List<string>();
        if (c.QkvBias)
        {
            parts.Add("q/k/v biases");
        }

        if (c.OutputBias)
        {
            parts.Add("o_proj bias");
        }

        if (c.QkNorm)
        {
            parts.Add("per-head q/k RMSNorm");
        }

        if (c.RotaryDim > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"rotary on {c.RotaryDim} of {c.HeadSize} head dims"));
        }

        if (c.SandwichNorms)
        {
            parts.Add("post-attention/post-feed-forward norms");
        }

        if (c.AttentionSoftcap > 0 || c.FinalLogitSoftcap > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"softcap attention {c.AttentionSoftcap}, logits {c.FinalLogitSoftcap}"));
        }

        if (c.SlidingWindowPattern > 0)
        {
            string local = c.SlidingWindow > 0 ? string.Create(CultureInfo.InvariantCulture, $"sliding window {c.SlidingWindow}") : "full attention";
            string rope = c.LocalRopeTheta > 0 ? string.Create(CultureInfo.InvariantCulture, $", RoPE base {c.LocalRopeTheta}") : string.Empty;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"local layers {local}{rope}; one global layer in every {c.SlidingWindowPattern} (layer {c.SlidingWindowPattern - 1} first)"));
        }
        else if (c.SlidingWindow > 0)
        {
            parts.Add(c.AlternatingSlidingWindow
                ? string.Create(CultureInfo.InvariantCulture, $"sliding window {c.SlidingWindow} on even layers")
                : string.Create(CultureInfo.InvariantCulture, $"sliding window {c.SlidingWindow} from layer {c.FirstSlidingLayer}"));
        }

        return string.Join(", ", parts);
    }

    private static string DescribeQuantization(ModelProto model)
    {
        var nbits = model.Graph.Node.Where(n => n.OpType == "MatMulNBits").ToList();
        int floatMatMuls = model.Graph.Node.Count(n => n.OpType == "MatMul");
        bool fp16 = model.Graph.Initializer.Any(t => t.DataType == (int)TensorProto.Types.DataType.Float16);
        string dtype = fp16 ? "float16" : "float32";
        if (nbits.Count == 0)
        {
            return $"none ({dtype} weights)";
        }

        var kinds = nbits
            .GroupBy(n => (Bits: Attribute(n, "bits"), Block: Attribute(n, "block_size"), Symmetric: n.Input.Count < 4 || string.IsNullOrEmpty(n.Input[3])))
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"int{g.Key.Bits} block {g.Key.Block} {(g.Key.Symmetric ? "symmetric" : "asymmetric")} x{g.Count()}"));
        return $"MatMulNBits: {string.Join(", ", kinds)}; {floatMatMuls} MatMul left in {dtype}";
    }

    private static long Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? 0;
}
