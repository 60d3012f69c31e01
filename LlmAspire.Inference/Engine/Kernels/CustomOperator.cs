using System.Runtime.InteropServices;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// One node's kernel, created by ONNX Runtime through <see cref="CustomOperator"/> and run on every call; disposed, when
/// it is <see cref="IDisposable"/>, as the session releases it.
/// </summary>
internal interface ICustomKernel
{
    /// <summary>Reads the inputs of <paramref name="context"/> (an <c>OrtKernelContext*</c>) and writes its outputs.</summary>
    void Compute(IntPtr context);
}

/// <summary>An input or output of a <see cref="CustomOperator"/>: its ONNX element type, and whether a node may leave it out.</summary>
internal readonly record struct CustomOperatorSlot(int ElementType, bool Optional = false);

/// <summary>
/// A CPU kernel for an existing operator, as ONNX Runtime's <c>OrtCustomOp</c>: a struct of a version and function
/// pointers, filled with unmanaged-callable statics shared by every operator. Each native struct is followed by a
/// handle to its <see cref="CustomOperator"/>, which those statics find from the struct pointer ONNX Runtime passes
/// back. A session whose options carry the domain runs these kernels for the graph's nodes of that name instead of
/// ONNX Runtime's own (custom kernels are looked up first), and the graph stays as written: GenAI and the CUDA provider
/// run it unchanged.
/// </summary>
internal sealed unsafe class CustomOperator
{
    // OrtCustomOp's version: 17 has every callback up to GetEndVersion; later ones (in-place and alias maps) stay unset.
    private const uint OpVersion = 17;

    // The struct: a uint version (padded to 8 bytes), then 25 callback slots, then our handle.
    private const int CallbackSlots = 25;

    private readonly CustomOperatorSlot[] _inputs;
    private readonly CustomOperatorSlot[] _outputs;
    private readonly Func<IntPtr, ICustomKernel> _create;
    private readonly IntPtr _name;

    /// <param name="name">The operator's name, e.g. <c>GroupQueryAttention</c>.</param>
    /// <param name="inputs">Its inputs in order; a node's type must match for ONNX Runtime to pick this kernel.</param>
    /// <param name="outputs">Its outputs in order.</param>
    /// <param name="create">A kernel for one node from its <c>OrtKernelInfo*</c>; an exception refuses the node, and the session fails to load.</param>
    public CustomOperator(string name, CustomOperatorSlot[] inputs, CustomOperatorSlot[] outputs, Func<IntPtr, ICustomKernel> create)
    {
        Name = name;
        _inputs = inputs;
        _outputs = outputs;
        _create = create;
        _name = Marshal.StringToCoTaskMemUTF8(name);
    }

    /// <summary>The operator's name.</summary>
    public string Name { get; }

    /// <summary>
    /// A native domain named <paramref name="domain"/> holding <paramref name="operators"/>. The structs and the domain
    /// live as long as the process: sessions opened later keep pointers to them.
    /// </summary>
    public static IntPtr CreateDomain(string domain, params CustomOperator[] operators)
    {
        IntPtr handle = OrtApiTable.CreateCustomOpDomain(domain);
        foreach (CustomOperator op in operators)
        {
            OrtApiTable.CustomOpDomainAdd(handle, op.CreateNative());
        }

        return handle;
    }

    private IntPtr CreateNative()
    {
        // Zeroed: the callbacks left out (variadic arity, shape inference, in-place maps) are null, which ONNX Runtime reads as absent.
        IntPtr* op = (IntPtr*)NativeMemory.AllocZeroed(8 + ((CallbackSlots + 1) * (nuint)sizeof(IntPtr)));
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
        callbacks[CallbackSlots] = GCHandle.ToIntPtr(GCHandle.Alloc(this));
        return (IntPtr)op;
    }

    private static CustomOperator Of(IntPtr op) => (CustomOperator)GCHandle.FromIntPtr(((IntPtr*)op + 1)[CallbackSlots]).Target!;

    [UnmanagedCallersOnly]
    private static IntPtr GetName(IntPtr op) => Of(op)._name;

    [UnmanagedCallersOnly]
    private static IntPtr GetExecutionProviderType(IntPtr op) => OrtApiTable.CpuProviderUtf8;

    [UnmanagedCallersOnly]
    private static int GetInputType(IntPtr op, nuint index) => Of(op)._inputs[(int)index].ElementType;

    [UnmanagedCallersOnly]
    private static nuint GetInputTypeCount(IntPtr op) => (nuint)Of(op)._inputs.Length;

    [UnmanagedCallersOnly]
    private static int GetOutputType(IntPtr op, nuint index) => Of(op)._outputs[(int)index].ElementType;

    [UnmanagedCallersOnly]
    private static nuint GetOutputTypeCount(IntPtr op) => (nuint)Of(op)._outputs.Length;

    // OrtCustomOpInputOutputCharacteristic: 0 required, 1 optional.
    [UnmanagedCallersOnly]
    private static int GetInputCharacteristic(IntPtr op, nuint index) => Of(op)._inputs[(int)index].Optional ? 1 : 0;

    [UnmanagedCallersOnly]
    private static int GetOutputCharacteristic(IntPtr op, nuint index) => Of(op)._outputs[(int)index].Optional ? 1 : 0;

    // OrtMemTypeDefault: every input in CPU memory.
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
            CustomOperator self = Of(op);
            *kernel = GCHandle.ToIntPtr(GCHandle.Alloc(new Instance(self.Name, self._create(info))));
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
        var instance = (Instance)GCHandle.FromIntPtr(kernel).Target!;
        try
        {
            instance.Kernel.Compute(context);
            return IntPtr.Zero;
        }
        catch (Exception ex)
        {
            return OrtApiTable.Fail($"LlmAspire {instance.Operator}: {ex.Message}");
        }
    }

    [UnmanagedCallersOnly]
    private static void KernelDestroy(IntPtr kernel)
    {
        GCHandle handle = GCHandle.FromIntPtr(kernel);
        (((Instance)handle.Target!).Kernel as IDisposable)?.Dispose();
        handle.Free();
    }

    private sealed record Instance(string Operator, ICustomKernel Kernel);
}
