// An experiment kept for the figures in docs/BENCHMARKS.md ("An int8 MatMul of our own"): 48 MatMulNBits nodes of the
// 100M model's shapes (12 x [768 x 1280, 768 x 768, 768 x 6144, 3072 x 768], 8-bit, block 32, asymmetric, accuracy
// level 4) in one graph, run by ONNX Runtime's MLAS and by LlmAspire's kernel without and with the next panel prefetched
// (as the engine's float32 PackedMatMul does) and the engine's PackedMatMulNBits (the graph rewritten), alternated, at each row count; median
// of 5 rounds. dotnet run -c Release -- THREADS M1,M2,... SPIN(0|1)
using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using LlmAspire.Bench.Int8MatMul;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

int threads = int.Parse(args[0]);
int[] Ms = args[1].Split(',').Select(int.Parse).ToArray();
string spin = args.Length > 2 ? args[2] : "0";
int rounds = 5;
var rng = new Random(1);
var model = new ModelProto { IrVersion = 8 };
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
var g = new GraphProto { Name = "g" };
(int K, int N)[] shapes = [(768, 1280), (768, 768), (768, 6144), (3072, 768)];
long bytes = 0;
for (int l = 0; l < 12; l++)
    for (int s = 0; s < 4; s++)
    {
        var (K, N) = shapes[s];
        var w = new float[K * N];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        QuantizedMatrix q = BlockQuantizer.Quantize(w, K, N, 8, 32, symmetric: false);
        string name = $"W{l}_{s}";
        var tb = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(q.Packed) };
        tb.Dims.Add(N); tb.Dims.Add(q.BlocksPerColumn); tb.Dims.Add(q.BlobSize);
        var ts = new TensorProto { Name = name + "_s", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.Scales.AsSpan())) };
        ts.Dims.Add(N * q.BlocksPerColumn);
        var tz = new TensorProto { Name = name + "_z", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(q.ZeroPoints!) };
        tz.Dims.Add(N * q.ZeroPointBytesPerColumn);
        g.Initializer.Add(tb); g.Initializer.Add(ts); g.Initializer.Add(tz);
        bytes += q.Packed.Length + q.Scales.Length * 4 + q.ZeroPoints!.Length;
        var node = new NodeProto { OpType = "MatMulNBits", Domain = "com.microsoft", Name = $"mm{l}_{s}" };
        node.Input.Add(K == 768 ? "A" : "A3"); node.Input.Add(name); node.Input.Add(name + "_s"); node.Input.Add(name + "_z");
        node.Output.Add($"Y{l}_{s}");
        node.Attribute.Add(new AttributeProto { Name = "K", Type = AttributeProto.Types.AttributeType.Int, I = K });
        node.Attribute.Add(new AttributeProto { Name = "N", Type = AttributeProto.Types.AttributeType.Int, I = N });
        node.Attribute.Add(new AttributeProto { Name = "bits", Type = AttributeProto.Types.AttributeType.Int, I = 8 });
        node.Attribute.Add(new AttributeProto { Name = "block_size", Type = AttributeProto.Types.AttributeType.Int, I = 32 });
        node.Attribute.Add(new AttributeProto { Name = "accuracy_level", Type = AttributeProto.Types.AttributeType.Int, I = 4 });
        g.Node.Add(node);
        g.Output.Add(VI($"Y{l}_{s}", -1, N));
    }
g.Input.Add(VI("A", -1, 768)); g.Input.Add(VI("A3", -1, 3072));
model.Graph = g;
byte[] proto = model.ToByteArray();
InferenceSession Open(bool ours)
{
    var so = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
    so.AddSessionConfigEntry("session.force_spinning_stop", spin);
    if (ours) MatMulNBitsOperator.Register(so);
    return new InferenceSession(proto, so);
}
using var mlas = Open(false);
using var ours = Open(true);
// The engine's kernel: the graph rewritten by PackedMatMulRewriter, as DecoderSession opens a model.
InferenceSession engine;
{
    var so = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
    so.AddSessionConfigEntry("session.force_spinning_stop", spin);
    LlmAspireKernels.Register(so);
    byte[] rewritten = PackedMatMulRewriter.TryRewrite(ModelProto.Parser.ParseFrom(proto), out PackedWeights? packed)!;
    using (packed)
    {
        packed!.AddTo(so);
        engine = new InferenceSession(rewritten, so);
    }
}
Console.WriteLine($"{bytes / 1e6:F0} MB of weights, {threads} threads, spin {spin}");
foreach (int M in Ms)
{
    var a = new float[M * 768]; var a3 = new float[M * 3072];
    for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
    for (int i = 0; i < a3.Length; i++) a3[i] = (float)(rng.NextDouble() * 2 - 1);
    using var ia = OrtValue.CreateTensorValueFromMemory(a, new long[] { M, 768 });
    using var ia3 = OrtValue.CreateTensorValueFromMemory(a3, new long[] { M, 3072 });
    string[] outNames = g.Output.Select(o => o.Name).ToArray();
    var outs1 = outNames.Select((n, i) => new float[M * shapes[i % 4].N]).ToArray();
    var outs2 = outNames.Select((n, i) => new float[M * shapes[i % 4].N]).ToArray();
    var ov1 = outs1.Select((o, i) => OrtValue.CreateTensorValueFromMemory(o, new long[] { M, shapes[i % 4].N })).ToArray();
    var ov2 = outs2.Select((o, i) => OrtValue.CreateTensorValueFromMemory(o, new long[] { M, shapes[i % 4].N })).ToArray();
    using var ro = new RunOptions();
    var tm = new List<double>(); var to = new List<double>(); var tp = new List<double>(); var te = new List<double>();
    var outs3 = outNames.Select((n, i) => new float[M * shapes[i % 4].N]).ToArray();
    var ov3 = outs3.Select((o, i) => OrtValue.CreateTensorValueFromMemory(o, new long[] { M, shapes[i % 4].N })).ToArray();
    for (int r = 0; r < rounds + 1; r++)
    {
        int reps = Math.Max(2, 40 / Math.Max(1, M / 4));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) mlas.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov1);
        double t1 = sw.Elapsed.TotalMilliseconds / reps;
        MatMulNBitsKernel.Prefetch = false;
        sw.Restart();
        for (int i = 0; i < reps; i++) ours.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov2);
        double t2 = sw.Elapsed.TotalMilliseconds / reps;
        MatMulNBitsKernel.Prefetch = true;
        sw.Restart();
        for (int i = 0; i < reps; i++) ours.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov2);
        double t3 = sw.Elapsed.TotalMilliseconds / reps;
        sw.Restart();
        for (int i = 0; i < reps; i++) engine.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov3);
        double t4 = sw.Elapsed.TotalMilliseconds / reps;
        if (r > 0) { tm.Add(t1); to.Add(t2); tp.Add(t3); te.Add(t4); }
    }
    double maxDiff = 0, maxRef = 0; long exact = 0, total = 0;
    for (int i = 0; i < outs1.Length; i++) for (int j = 0; j < outs1[i].Length; j++) { double d = Math.Abs(outs1[i][j] - outs2[i][j]); maxDiff = Math.Max(maxDiff, d); maxRef = Math.Max(maxRef, Math.Abs(outs1[i][j])); exact += d == 0 ? 1 : 0; total++; }
    double mm = tm.Order().ElementAt(tm.Count / 2), mo = to.Order().ElementAt(to.Count / 2), mp = tp.Order().ElementAt(tp.Count / 2), me = te.Order().ElementAt(te.Count / 2);
    double engineDiff = 0;
    for (int i = 0; i < outs1.Length; i++) for (int j = 0; j < outs1[i].Length; j++) engineDiff = Math.Max(engineDiff, Math.Abs(outs1[i][j] - outs3[i][j]));
    Console.WriteLine($"M={M,4}: MLAS {mm,7:F2} ms ({bytes / mm / 1e6,5:F1} GB/s)  ours {mo,7:F2} ms ({mm / mo:F2}x)  ours+prefetch {mp,7:F2} ms ({mm / mp:F2}x)  engine {me,7:F2} ms ({mm / me:F2}x, max|diff| {engineDiff:E1})  max|diff| {maxDiff:E1} (max {maxRef:F1}), {100.0 * exact / total:F0}% equal");
}

static ValueInfoProto VI(string name, long d0, long d1)
{
    var shape = new TensorShapeProto();
    shape.Dim.Add(d0 < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "m" } : new TensorShapeProto.Types.Dimension { DimValue = d0 });
    shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d1 });
    return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
}
