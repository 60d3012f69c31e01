using LlmAspire.Inference.Engine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Bench.Int8MatMul;

/// <summary>
/// Registers <see cref="MatMulNBitsKernel"/> with ONNX Runtime as a CPU kernel for <c>com.microsoft.MatMulNBits</c>
/// (through the engine's <see cref="CustomOperator"/>): the graph stays as written. The kernel takes 8-bit weights with
/// constant scales, constant or absent zero points and bias, no <c>g_idx</c>, and K a multiple of the block size; a node
/// it cannot take fails the session.
/// </summary>
internal static unsafe class MatMulNBitsOperator
{
    /// <summary>The operator's name.</summary>
    public const string Name = "MatMulNBits";

    // A, B, scales, zero_points, g_idx, bias: the last three optional.
    private static readonly CustomOperatorSlot[] Inputs =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementUInt8),
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementUInt8, Optional: true),
        new(OrtApiTable.ElementInt32, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    private static readonly Lazy<IntPtr> DomainHandle = new(() =>
        CustomOperator.CreateDomain("com.microsoft", new CustomOperator(Name, Inputs, [new(OrtApiTable.ElementFloat)], CreateKernel)));

    /// <summary>Adds the operator's domain to <paramref name="options"/> (CPU sessions only).</summary>
    public static void Register(SessionOptions options)
    {
        if (!MatMulNBitsKernel.IsSupported)
        {
            throw new NotSupportedException("The int8 MatMulNBits kernel needs AVX-VNNI and AVX-512.");
        }

        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
    }

    private static MatMulNBitsKernel CreateKernel(IntPtr info)
    {
        int k = (int)OrtApiTable.AttributeInt64(info, "K", 0);
        int n = (int)OrtApiTable.AttributeInt64(info, "N", 0);
        int bits = (int)OrtApiTable.AttributeInt64(info, "bits", 4);
        int blockSize = (int)OrtApiTable.AttributeInt64(info, "block_size", 0);
        if (bits != 8)
        {
            throw new NotSupportedException($"LlmAspire's MatMulNBits kernel takes 8-bit weights; this node's are {bits}-bit.");
        }

        // A node the graph check passed (CpuKernels) has no g_idx, and zero points and bias absent or constant:
        // an absent optional input reads as not constant.
        IntPtr weight = OrtApiTable.ConstantInput(info, 1);
        IntPtr scales = OrtApiTable.ConstantInput(info, 2);
        IntPtr zeroPoints = OrtApiTable.ConstantInput(info, 3);
        IntPtr bias = OrtApiTable.ConstantInput(info, 5);
        if (weight == IntPtr.Zero || scales == IntPtr.Zero)
        {
            throw new NotSupportedException("LlmAspire's MatMulNBits kernel takes constant weights and scales.");
        }

        return new MatMulNBitsKernel(
            (byte*)OrtApiTable.Data(weight),
            (float*)OrtApiTable.Data(scales),
            zeroPoints == IntPtr.Zero ? null : (byte*)OrtApiTable.Data(zeroPoints),
            bias == IntPtr.Zero ? null : (float*)OrtApiTable.Data(bias),
            k,
            n,
            blockSize);
    }
}
