using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// Registers <see cref="AttentionKernel"/> with ONNX Runtime as a CPU kernel for <c>com.microsoft.GroupQueryAttention</c>:
/// the graph stays as written (GenAI and the CUDA provider run it unchanged), and a session whose options carry this
/// domain runs our kernel for those nodes instead of ONNX Runtime's own (custom kernels are looked up first).
/// The <c>OrtCustomOp</c> is a struct of a version and function pointers, filled here with unmanaged-callable statics.
/// </summary>
internal static unsafe class AttentionOperator
{
    /// <summary>The operator's domain and name: GroupQueryAttention's own.</summary>
    public const string Domain = "com.microsoft";

    /// <summary>The operator's name.</summary>
    public const string Name = "GroupQueryAttention";

    private const int Inputs = 9;
    private const int Outputs = 3;

    // OrtCustomOp's version: 17 has every callback up to GetEndVersion; later ones (in-place and alias maps) stay unset.
    private const uint OpVersion = 17;

    private static readonly Lazy<IntPtr> DomainHandle = new(CreateDomain, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly IntPtr NameUtf8 = Marshal.StringToCoTaskMemUTF8(Name);
    private static readonly IntPtr ProviderUtf8 = Marshal.StringToCoTaskMemUTF8("CPUExecutionProvider");

    /// <summary>Adds the operator's domain to <paramref name="options"/> (CPU sessions only).</summary>
    public static void Register(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OrtApiTable.AddCustomOpDomain(options.DangerousGetHandle(), DomainHandle.Value);
    }

    private static IntPtr CreateDomain()
    {
        // Zeroed: the callbacks left out (variadic arity, shape inference, in-place maps) are null, which ONNX Runtime reads as absent.
        IntPtr* op = (IntPtr*)NativeMemory.AllocZeroed(8 + (25 * (nuint)sizeof(IntPtr)));
        *(uint*)op = OpVersion;
        IntPtr* callbacks = op + 1;
        callbacks[1] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetName;
        callbacks[2] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetExecutionProviderType;
        callbacks[3] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputType;
        callbacks[4] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetInputTypeCount;
        callbacks[5] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetOutputType;
        callbacks[6] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetOutputTypeCount;
        callbacks[8] = (IntPtr)(delegate* unmanaged<IntPtr, void>)&KernelDestroy;
        callbacks[9] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputCharacteristic;
        callbacks[10] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetOutputCharacteristic;
        callbacks[11] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputMemoryType;
        callbacks[16] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr*, IntPtr>)&CreateKernelV2;
        callbacks[17] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&KernelComputeV2;
        callbacks[19] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetStartVersion;
        callbacks[20] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&GetEndVersion;
        IntPtr domain = OrtApiTable.CreateCustomOpDomain(Domain);
        OrtApiTable.CustomOpDomainAdd(domain, (IntPtr)op);
        return domain;
    }

    [UnmanagedCallersOnly]
    private static IntPtr GetName(IntPtr op) => NameUtf8;

    [UnmanagedCallersOnly]
    private static IntPtr GetExecutionProviderType(IntPtr op) => ProviderUtf8;

    // query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache.
    [UnmanagedCallersOnly]
    private static int GetInputType(IntPtr op, nuint index) => index is 5 or 6 ? OrtApiTable.ElementInt32 : OrtApiTable.ElementFloat;

    [UnmanagedCallersOnly]
    private static nuint GetInputTypeCount(IntPtr op) => Inputs;

    [UnmanagedCallersOnly]
    private static int GetOutputType(IntPtr op, nuint index) => OrtApiTable.ElementFloat;

    [UnmanagedCallersOnly]
    private static nuint GetOutputTypeCount(IntPtr op) => Outputs;

    // Key and value are absent when the query is packed; past and the rotary caches may be absent in general.
    [UnmanagedCallersOnly]
    private static int GetInputCharacteristic(IntPtr op, nuint index) => index is 0 or 5 or 6 ? 0 : 1;

    [UnmanagedCallersOnly]
    private static int GetOutputCharacteristic(IntPtr op, nuint index) => index == 0 ? 0 : 1;

    [UnmanagedCallersOnly]
    private static int GetInputMemoryType(IntPtr op, nuint index) => 0;

    [UnmanagedCallersOnly]
    private static int GetStartVersion(IntPtr op) => 1;

    [UnmanagedCallersOnly]
    private static int GetEndVersion(IntPtr op) => int.MaxValue;

    [UnmanagedCallersOnly]
    private static IntPtr CreateKernelV2(IntPtr op, IntPtr api, IntPtr info, IntPtr* kernel)
    {
        try
        {
            var attributes = new AttentionAttributes(
                Heads: (int)OrtApiTable.AttributeInt64(info, "num_heads", 0),
                KvHeads: (int)OrtApiTable.AttributeInt64(info, "kv_num_heads", 0),
                Scale: OrtApiTable.AttributeFloat(info, "scale", 0f),
                Softcap: OrtApiTable.AttributeFloat(info, "softcap", 0f),
                Rotary: OrtApiTable.AttributeInt64(info, "do_rotary", 0) == 1,
                RotaryInterleaved: OrtApiTable.AttributeInt64(info, "rotary_interleaved", 0) == 1,
                LocalWindow: (int)OrtApiTable.AttributeInt64(info, "local_window_size", -1));
            if (OrtApiTable.AttributeInt64(info, "smooth_softmax", 0) != 0)
            {
                return OrtApiTable.Fail("LlmAspire's GroupQueryAttention kernel does not do smooth_softmax.");
            }

            if (attributes.Heads <= 0 || attributes.KvHeads <= 0 || attributes.Heads % attributes.KvHeads != 0)
            {
                return OrtApiTable.Fail($"GroupQueryAttention: num_heads {attributes.Heads} is not a multiple of kv_num_heads {attributes.KvHeads}.");
            }

            *kernel = GCHandle.ToIntPtr(GCHandle.Alloc(new AttentionKernel(attributes)));
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail(ex.Message);
        }
    }

    [UnmanagedCallersOnly]
    private static IntPtr KernelComputeV2(IntPtr kernel, IntPtr context)
    {
        try
        {
            ((AttentionKernel)GCHandle.FromIntPtr(kernel).Target!).Compute(context);
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail($"LlmAspire GroupQueryAttention: {ex.Message}");
        }
    }

    [UnmanagedCallersOnly]
    private static void KernelDestroy(IntPtr kernel) => GCHandle.FromIntPtr(kernel).Free();
}
