using Google.Protobuf;
using Onnx;

namespace LlmAspire.Inference.Models;

/// <summary>
/// What a decoder graph declares that decides how it is served: its input names and the operators it uses (as
/// <c>domain.OpType</c>, the default domain without a prefix). Read from the file without loading the weights.
/// </summary>
public sealed record DecoderGraphSummary(IReadOnlyList<string> Inputs, IReadOnlySet<string> Operators)
{
    private const int ModelGraphField = 7;
    private const int GraphNodeField = 1;
    private const int GraphInputField = 11;

    /// <summary>The summary of a parsed model.</summary>
    public static DecoderGraphSummary Of(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new DecoderGraphSummary(
            [.. model.Graph.Input.Select(i => i.Name)],
            model.Graph.Node.Select(OperatorName).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// Reads the node list and the graph inputs of the ONNX file at <paramref name="path"/>, skipping initializers (a
    /// protobuf scan: embedded weights are streamed past, not parsed).
    /// </summary>
    public static DecoderGraphSummary Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var input = new CodedInputStream(stream);
        var inputs = new List<string>();
        var operators = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) != ModelGraphField || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    input.SkipLastField();
                    continue;
                }

                long end = input.ReadLength() + input.Position;
                while (input.Position < end)
                {
                    uint field = input.ReadTag();
                    switch (WireFormat.GetTagFieldNumber(field))
                    {
                        case GraphNodeField:
                            operators.Add(OperatorName(NodeProto.Parser.ParseFrom(input.ReadBytes())));
                            break;
                        case GraphInputField:
                            inputs.Add(ValueInfoProto.Parser.ParseFrom(input.ReadBytes()).Name);
                            break;
                        default:
                            input.SkipLastField();
                            break;
                    }
                }
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"'{path}' is not a valid ONNX model ({ex.Message}).", ex);
        }

        return new DecoderGraphSummary(inputs, operators);
    }

    /// <summary>True when the graph uses <paramref name="op"/> (e.g. <c>com.microsoft.GroupQueryAttention</c>).</summary>
    public bool Uses(string op) => Operators.Contains(op);

    /// <summary>True when the graph takes an input named <paramref name="name"/>.</summary>
    public bool Takes(string name) => Inputs.Contains(name, StringComparer.Ordinal);

    private static string OperatorName(NodeProto node) => node.Domain.Length == 0 || node.Domain == "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
}
