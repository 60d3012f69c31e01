using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Quantization;

/// <summary>The pieces of calibrated quantization on synthetic matrices: GPTQ's algebra, AWQ's scales, the packing, the options.</summary>
public sealed class CalibratedQuantizationUnitTests
{
    [Theory]
    [InlineData(40, 200)] // one partial panel
    [InlineData(150, 400)] // panels of 64, 64 and 22: the blocked factorization's hand-over between panels
    public void InverseCholeskyUpper_UTransposeU_IsTheDampedInverseHessian(int k, int samples)
    {
        (double[] hessian, _) = RandomHessian(k, samples, seed: 1);
        double damp = GptqQuantizer.DampFraction * Enumerable.Range(0, k).Average(i => hessian[i * k + i]);

        float[] u = GptqQuantizer.InverseCholeskyUpper(hessian, k, new float[k], 1);

        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(0f, u[i * k + j]);
            }
        }

        // UᵀU, then (UᵀU)(H + damp I) = I.
        double[] inverse = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            for (int m = 0; m < k; m++)
            {
                double sum = 0;
                for (int r = 0; r <= Math.Min(i, m); r++)
                {
                    sum += (double)u[r * k + i] * u[r * k + m];
                }

                inverse[i * k + m] = sum;
            }
        }

        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double sum = 0;
                for (int m = 0; m < k; m++)
                {
                    sum += inverse[i * k + m] * (hessian[m * k + j] + (m == j ? damp : 0));
                }

                Assert.Equal(i == j ? 1.0 : 0.0, sum, 3);
            }
        }
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(4, true)]
    [InlineData(8, false)]
    public void Gptq_OnCorrelatedActivations_HasLessOutputErrorThanRoundToNearest(int bits, bool symmetric)
    {
        const int k = 96, n = 24, t = 512;
        (double[] hessian, float[] x) = RandomHessian(k, t, seed: 2);
        var random = new Random(3);
        float[] w = [.. Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() - 0.5))];
        using var gemm = new OrtGemm();

        QuantizedMatrix rtn = BlockQuantizer.Quantize(w, k, n, bits, 32, symmetric);
        QuantizedMatrix gptq = GptqQuantizer.Quantize(w, k, n, bits, 32, symmetric, hessian, gemm);

        double rtnError = OutputError(gemm, x, t, k, n, w, rtn.Dequantize());
        double gptqError = OutputError(gemm, x, t, k, n, w, gptq.Dequantize());
        Assert.True(gptqError < 0.8 * rtnError, $"GPTQ {gptqError:G4}, RTN {rtnError:G4}");
        Assert.Equal(rtn.Packed.Length, gptq.Packed.Length);
        Assert.Equal(rtn.ZeroPoints?.Length, gptq.ZeroPoints?.Length);

        // A factor computed once for the input gives the same codes as one computed per weight.
        QuantizedMatrix shared = GptqQuantizer.Quantize(w, k, n, bits, 32, symmetric, hessian, gemm, factor: GptqQuantizer.Factor(hessian, k));
        Assert.Equal(gptq.Packed, shared.Packed);
        Assert.Equal(gptq.Scales, shared.Scales);

        // Act-order with static groups keeps the layout and still beats round-to-nearest on these activations.
        QuantizedMatrix ordered = GptqQuantizer.Quantize(w, k, n, bits, 32, symmetric, hessian, gemm, activationOrder: true);
        Assert.Equal(gptq.Packed.Length, ordered.Packed.Length);
        Assert.True(OutputError(gemm, x, t, k, n, w, ordered.Dequantize()) < rtnError);
    }

    [Theory]
    [InlineData(4, false, 80)]
    [InlineData(8, true, 64)]
    public void Pack_OfRoundToNearestCodes_IsWhatQuantizeWrites(int bits, bool symmetric, int k)
    {
        const int n = 5;
        var random = new Random(4);
        float[] w = [.. Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() - 0.3))];
        QuantizedMatrix expected = BlockQuantizer.Quantize(w, k, n, bits, 32, symmetric);
        byte[] codes = new byte[k * n];
        int[] zeroPoints = new int[expected.Scales.Length];
        for (int column = 0; column < n; column++)
        {
            for (int row = 0; row < k; row++)
            {
                codes[row * n + column] = (byte)expected.Code(row, column);
            }

            for (int b = 0; b < expected.BlocksPerColumn; b++)
            {
                zeroPoints[column * expected.BlocksPerColumn + b] = expected.ZeroPoint(column, b);
            }
        }

        QuantizedMatrix packed = BlockQuantizer.Pack(k, n, bits, 32, symmetric, codes, expected.Scales, zeroPoints);

        Assert.Equal(expected.Packed, packed.Packed);
        Assert.Equal(expected.ZeroPoints, packed.ZeroPoints);
    }

    [Fact]
    public void FakeQuantize_IsQuantizeThenDequantize()
    {
        const int k = 70, n = 9;
        var random = new Random(5);
        float[] w = [.. Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() - 0.5))];

        Assert.Equal(BlockQuantizer.Quantize(w, k, n, 4, 32, false).Dequantize(), BlockQuantizer.FakeQuantize(w, k, n, 4, 32, false));
    }

    [Fact]
    public void AwqScales_AlphaZeroIsOne_OtherwiseFollowTheActivationsWithMaxTimesMinOne()
    {
        double[] meanAbs = [0.1, 1, 4, 0];

        Assert.All(AwqScaler.Scales(meanAbs, 0), s => Assert.Equal(1f, s));
        float[] half = AwqScaler.Scales(meanAbs, 0.5);
        Assert.Equal(1.0, half.Max() * (double)half.Min(), 4);
        Assert.True(half[2] > half[1] && half[1] > half[0] && half[0] > half[3]);
    }

    [Theory]
    [InlineData("int4-b32-asym-acc4-gptq", QuantizationMethod.Gptq)]
    [InlineData("int8-b128-sym-acc4-awq", QuantizationMethod.Awq)]
    [InlineData("int4-b32-asym-acc4", QuantizationMethod.Rtn)]
    [InlineData("int4-b32-asym-acc4-rtn", QuantizationMethod.Rtn)]
    [InlineData("int4-b32-asym-acc4-awq+gptq", QuantizationMethod.AwqGptq)]
    [InlineData("int4-b16-asym-acc4-gptq-mix50", QuantizationMethod.Gptq)]
    public void Options_MethodRoundTripsThroughTheVariantName(string name, QuantizationMethod method)
    {
        QuantizationOptions options = QuantizationOptions.Parse(name);

        Assert.Equal(method, options.Method);
        Assert.Equal(name.Replace("-rtn", string.Empty, StringComparison.Ordinal), options.Describe());
    }

    [Fact]
    public void Options_CalibrationFileWithRtn_OrCalibratedFloat16Only_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => new QuantizationOptions { Bits = 4, CalibrationFile = "text.txt" }.Validate());
        Assert.Throws<ArgumentException>(() => new QuantizationOptions { Float16 = true, Method = QuantizationMethod.Awq }.Validate());
        new QuantizationOptions { Bits = 4, Method = QuantizationMethod.Gptq, CalibrationFile = "text.txt" }.Validate();
        Assert.Throws<ArgumentException>(() => QuantizationOptions.Parse("int4-b32-asym-acc4-mix50"));
        Assert.Throws<ArgumentException>(() => QuantizationOptions.Parse("int8-b32-asym-acc4-gptq-mix50"));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationOptions.Parse("int4-b32-asym-acc4-gptq-mix101"));
        Assert.Equal(50, QuantizationOptions.Parse("int4-b32-asym-acc4-awq+gptq-mix50").Int8Percent);
    }

    /// <summary>2XᵀX/t of t rows whose channels are correlated (a random mixing of fewer sources) and of unequal size.</summary>
    private static (double[] Hessian, float[] X) RandomHessian(int k, int t, int seed)
    {
        var random = new Random(seed);
        int sources = k / 2;
        double[] mixing = [.. Enumerable.Range(0, sources * k).Select(_ => random.NextDouble() - 0.5)];
        float[] x = new float[t * k];
        for (int row = 0; row < t; row++)
        {
            double[] z = [.. Enumerable.Range(0, sources).Select(_ => random.NextDouble() - 0.5)];
            for (int c = 0; c < k; c++)
            {
                double v = 0.05 * (random.NextDouble() - 0.5);
                for (int s = 0; s < sources; s++)
                {
                    v += z[s] * mixing[s * k + c];
                }

                x[row * k + c] = (float)(v * (1 + (c % 7)));
            }
        }

        double[] hessian = new double[k * k];
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double sum = 0;
                for (int row = 0; row < t; row++)
                {
                    sum += (double)x[row * k + i] * x[row * k + j];
                }

                hessian[i * k + j] = 2 * sum / t;
            }
        }

        return (hessian, x);
    }

    private static double OutputError(OrtGemm gemm, float[] x, int t, int k, int n, float[] w, float[] quantized)
    {
        float[] delta = [.. quantized.Zip(w, (q, v) => q - v)];
        return gemm.Multiply(x, delta, t, k, n).Sum(e => (double)e * e);
    }
}
