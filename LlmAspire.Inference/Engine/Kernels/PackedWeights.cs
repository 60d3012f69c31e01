using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>One weight packed by <see cref="PackedMatMulRewriter"/>: where its elements are, to be written once.</summary>
internal readonly unsafe struct PackedWeight(void* data, long bytes)
{
    /// <summary>The weight's floats, as <see cref="PackedMatMulKernel.Pack"/> writes them.</summary>
    public Span<float> Span => As<float>();

    /// <summary>The weight's elements as <typeparamref name="T"/>.</summary>
    public Span<T> As<T>()
        where T : unmanaged => new(data, checked((int)(bytes / sizeof(T))));
}

/// <summary>
/// The packed weights of a rewritten model, in native memory until the session opens: they are handed to ONNX Runtime
/// as the data of the graph's external initializers of those names (<c>AddExternalInitializers</c>), which it copies
/// into the session as it loads the graph. Dispose them once the session is open (or failed to open).
/// </summary>
internal sealed unsafe class PackedWeights : IDisposable
{
    private readonly List<(string Name, IntPtr Memory, IntPtr Value)> _weights = [];

    /// <summary>How many weights are held.</summary>
    public int Count => _weights.Count;

    /// <summary>
    /// MatMul and MatMulNBits nodes of the rewritten graph with a weight of at least the rewrite's minimum size that were
    /// not rewritten (a 4-bit MatMulNBits, say): ONNX Runtime's pool still runs them.
    /// </summary>
    public int LargeMatMulsLeft { get; internal set; }

    /// <summary>SwiGLUs of the rewritten graph run by <see cref="SwiGluKernel"/> (in place of Split, Sigmoid, Mul, Mul).</summary>
    public int SwiGlus { get; internal set; }

    /// <summary>Allocates a float32 weight of <paramref name="shape"/> for the initializer <paramref name="name"/>.</summary>
    public PackedWeight Add(string name, params long[] shape) => AddOfType(name, OrtApiTable.ElementFloat, sizeof(float), shape);

    /// <summary>Allocates a weight of <paramref name="shape"/> and ONNX element type <paramref name="elementType"/> (<paramref name="elementSize"/> bytes each) for the initializer <paramref name="name"/>.</summary>
    public PackedWeight AddOfType(string name, int elementType, int elementSize, params long[] shape)
    {
        long length = 1;
        foreach (long dim in shape)
        {
            length = checked(length * dim);
        }

        nuint bytes = checked((nuint)length * (nuint)elementSize);
        IntPtr memory = (IntPtr)NativeMemory.AlignedAlloc(bytes, 64);
        try
        {
            _weights.Add((name, memory, OrtApiTable.CreateTensorOverMemory((void*)memory, bytes, shape, elementType)));
        }
        catch
        {
            NativeMemory.AlignedFree((void*)memory);
            throw;
        }

        return new PackedWeight((void*)memory, (long)bytes);
    }

    /// <summary>Hands every weight to a session about to be opened with <paramref name="options"/> (which must outlive these only until then).</summary>
    public void AddTo(SessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OrtApiTable.AddExternalInitializers(options.DangerousGetHandle(), _weights.Select(w => w.Name).ToList(), _weights.Select(w => w.Value).ToList());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach ((_, IntPtr memory, IntPtr value) in _weights)
        {
            OrtApiTable.ReleaseValue(value);
            NativeMemory.AlignedFree((void*)memory);
        }

        _weights.Clear();
    }
}
