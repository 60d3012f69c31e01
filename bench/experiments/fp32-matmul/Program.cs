// An experiment kept for the figures in docs/BENCHMARKS.md ("A float32 MatMul of our own"): 48 MatMul nodes of the 100M
// model's shapes (12 x [768 x 1280, 768 x 768, 768 x 6144, 3072 x 768], 415 MB of float32 weights) in one graph, run by
// ONNX Runtime's MLAS and by the kernel here, alternated, at each row count; median of 5 rounds.
// dotnet run -c Release -- THREADS M1,M2,... SPIN(0|1)
using System.Diagnostics;
using System.Runtime.InteropServices;
using Google.Protobuf;
using LlmAspire.Bench.Fp32MatMul;
using Microsoft.ML.OnnxRuntime;
using Onnx;

int threads = int.Parse(args[0]);
int[] Ms = args[1].Split(',').Select(int.Parse).ToArray();
string spin = args.Length > 2 ? args[2] : "1";
int rounds = 5;
var rng = new Random(1);
var model = new ModelProto { IrVersion = 8 };
model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
var g = new GraphProto { Name = "g" };
(int K, int N)[] shapes = [(768, 1280), (768, 768), (768, 6144), (3072, 768)];
long bytes = 0;
for (int l = 0; l < 12; l++)
    for (int s = 0; s < 4; s++)
    {
        var (K, N) = shapes[s];
        var w = new float[K * N];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        var t = new TensorProto { Name = $"W{l}_{s}", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(w.AsSpan())) };
        t.Dims.Add(K); t.Dims.Add(N);
        g.Initializer.Add(t);
        bytes += (long)K * N * 4;
        var node = new NodeProto { OpType = "MatMul", Name = $"mm{l}_{s}" };
        node.Input.Add(K == 768 ? "A" : "A3"); node.Input.Add(t.Name); node.Output.Add($"Y{l}_{s}");
        g.Node.Add(node);
        g.Output.Add(VI($"Y{l}_{s}", -1, N));
    }
g.Input.Add(VI("A", -1, 768)); g.Input.Add(VI("A3", -1, 3072));
model.Graph = g;
byte[] proto = model.ToByteArray();
InferenceSession Open(bool ours)
{
    var so = new SessionOptions { IntraOpNumThreads = threads, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
    so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
    so.AddSessionConfigEntry("session.force_spinning_stop", spin);
    if (ours) MatMulOperator.Register(so);
    return new InferenceSession(proto, so);
}
using var mlas = Open(false);
using var ours = Open(true);
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
    var tm = new List<double>(); var to = new List<double>();
    for (int r = 0; r < rounds + 1; r++)
    {
        int reps = Math.Max(1, 20 / Math.Max(1, M / 8));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) mlas.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov1);
        double t1 = sw.Elapsed.TotalMilliseconds / reps;
        sw.Restart();
        for (int i = 0; i < reps; i++) ours.Run(ro, ["A", "A3"], [ia, ia3], outNames, ov2);
        double t2 = sw.Elapsed.TotalMilliseconds / reps;
        if (r > 0) { tm.Add(t1); to.Add(t2); }
    }
    double maxDiff = 0, maxRef = 0;
    for (int i = 0; i < outs1.Length; i++) for (int j = 0; j < outs1[i].Length; j++) { maxDiff = Math.Max(maxDiff, Math.Abs(outs1[i][j] - outs2[i][j])); maxRef = Math.Max(maxRef, Math.Abs(outs1[i][j])); }
    double mm = tm.Order().ElementAt(tm.Count / 2), mo = to.Order().ElementAt(to.Count / 2);
    Console.WriteLine($"M={M,4}: MLAS {mm,7:F2} ms ({bytes / mm / 1e6,5:F1} GB/s)  ours {mo,7:F2} ms ({bytes / mo / 1e6,5:F1} GB/s)  ours/MLAS speed {mm / mo:F2}x  max|diff| {maxDiff:E1} (max {maxRef:F1})");
}

static ValueInfoProto VI(string name, long d0, long d1)
{
    var shape = new TensorShapeProto();
    shape.Dim.Add(d0 < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "m" } : new TensorShapeProto.Types.Dimension { DimValue = d0 });
    shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d1 });
    return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
}
