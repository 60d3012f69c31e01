using LlmAspire.Inference.Models.Gguf;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>The reader against files from the test writer: every metadata type, alignment, tensors, and damaged files.</summary>
public sealed class GgufFileTests
{
    [Fact]
    public void Open_EveryMetadataTypeAndArraysOfArrays_ReadBackAsWritten()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "all.gguf");
        var nested = new GgufArray(GgufValueType.Array, new[] { new GgufArray(GgufValueType.Int16, new short[] { -1, 2 }), new GgufArray(GgufValueType.String, new[] { "ä", "" }) });
        new GgufWriter()
            .Add("u8", GgufValueType.UInt8, (byte)200).Add("i8", GgufValueType.Int8, (sbyte)-100)
            .Add("u16", GgufValueType.UInt16, (ushort)60000).Add("i16", GgufValueType.Int16, (short)-30000)
            .Add("u32", 4000000000u).Add("i32", GgufValueType.Int32, -2000000000)
            .Add("f32", 1.5f).Add("bool", true).Add("str", "héllo ▁world")
            .Add("u64", GgufValueType.UInt64, ulong.MaxValue).Add("i64", GgufValueType.Int64, long.MinValue).Add("f64", GgufValueType.Float64, Math.PI)
            .Add("floats", GgufValueType.Array, new GgufArray(GgufValueType.Float32, new[] { 1f, -2f }))
            .Add("nested", GgufValueType.Array, nested)
            .AddTensor("t", [32, 2], GgmlType.Q8_0, new byte[68])
            .Write(path);

        using GgufFile file = GgufFile.Open(path);

        Assert.Equal(3u, file.Version);
        Assert.Equal((byte)200, file.Metadata["u8"]);
        Assert.Equal((sbyte)-100, file.Metadata["i8"]);
        Assert.Equal((ushort)60000, file.Metadata["u16"]);
        Assert.Equal((short)-30000, file.Metadata["i16"]);
        Assert.Equal(4000000000L, file.GetInteger("u32"));
        Assert.Equal(-2000000000L, file.GetInteger("i32"));
        Assert.Equal(1.5, file.GetNumber("f32"));
        Assert.True(file.GetBool("bool"));
        Assert.Equal("héllo ▁world", file.GetString("str"));
        Assert.Equal(ulong.MaxValue, file.Metadata["u64"]);
        Assert.Equal(long.MinValue, file.GetInteger("i64"));
        Assert.Equal(Math.PI, file.GetNumber("f64"));
        Assert.Equal(new[] { 1f, -2f }, file.GetArray("floats")!.Values);
        var inner = (GgufArray[])file.GetArray("nested")!.Values;
        Assert.Equal(new short[] { -1, 2 }, inner[0].Values);
        Assert.Equal(new[] { "ä", "" }, inner[1].Values);
        Assert.Null(file.GetString("absent"));
        var wrongType = Assert.Throws<InvalidDataException>(() => file.GetString("u32"));
        Assert.Contains("'u32'", wrongType.Message, StringComparison.Ordinal);
        Assert.Equal([32L, 2L], file.FindTensor("t")!.Dimensions);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(256)]
    public void ReadFloat32_TensorsAtAlignedOffsets_ReadBackExactly(int alignment)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "aligned.gguf");
        float[] a = [.. Enumerable.Range(0, 5).Select(i => i * 0.5f)];
        float[] b = [.. Enumerable.Range(0, 64).Select(i => MathF.Sin(i))];
        (byte[] bBytes, float[] bValues) = GgmlEncoder.Encode(b, GgmlType.Q8_0);
        new GgufWriter { Alignment = alignment }
            .Add("general.architecture", "llama")
            .AddTensor("a", [5], GgmlType.F32, GgmlEncoder.Encode(a, GgmlType.F32).Bytes)
            .AddTensor("b", [32, 2], GgmlType.Q8_0, bBytes)
            .Write(path);

        using GgufFile file = GgufFile.Open(path);

        Assert.Equal(alignment, file.Alignment);
        Assert.Equal(0, file.DataOffset % alignment);
        Assert.Equal(a, file.ReadFloat32(file.FindTensor("a")!));
        Assert.Equal(bValues, file.ReadFloat32(file.FindTensor("b")!));
    }

    [Fact]
    public void Open_TruncatedData_NamesTheTensorThatDoesNotFit()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "cut.gguf");
        new GgufWriter().AddTensor("first", [64], GgmlType.F32, new byte[256]).AddTensor("second", [64], GgmlType.F32, new byte[256]).Write(path);
        using (FileStream stream = File.OpenWrite(path))
        {
            stream.SetLength(stream.Length - 100);
        }

        var error = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("'second'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("NOPE", 3u, "not a GGUF file")]
    [InlineData("GGUF", 1u, "version 1")]
    [InlineData("GGUF", 0x03000000u, "big-endian")]
    [InlineData("GGUF", 9u, "version 9")]
    public void Open_NotGguf_OrAnotherVersion_IsOneLineError(string magic, uint version, string expected)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "bad.gguf");
        File.WriteAllBytes(path, [.. System.Text.Encoding.ASCII.GetBytes(magic), .. BitConverter.GetBytes(version), .. new byte[16]]);

        var error = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Open_HeaderCutInsideMetadata_IsTruncated()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "short.gguf");
        new GgufWriter().Add("general.name", new string('x', 500)).Write(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..300]);

        var error = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }
}
