using LlmAspire.Inference.Engine.Simulation;

namespace LlmAspire.Tests.Inference.Engine.Simulation;

/// <summary>The latency model, the pacer and the options' checks as plain arithmetic: a fake clock, no sleeping.</summary>
public sealed class SimulatedLatencyTests
{
    [Fact]
    public void Step_PrefillThenDecode_PaysTheBaseOnceAndEachTermOnce()
    {
        var latency = new SimulatedLatency(new SimulatedEngineOptions
        {
            DecodeBaseMs = 6,
            PrefillMsPerToken = 0.5,
            DecodeMsPerSequence = 0.25,
            DecodeMsPerKvToken = 0.001,
        });

        double prefill = latency.Prefill(firstInStep: true, promptTokens: 100);
        double secondChunk = latency.Prefill(firstInStep: false, promptTokens: 10);
        double decode = latency.Decode(firstInStep: false, sequences: 4, kvPositions: 2000);

        Assert.Equal(6 + 50, prefill, 9);
        Assert.Equal(5, secondChunk, 9);
        Assert.Equal(1 + 2, decode, 9);
        Assert.Equal(6 + 1 + 2, latency.Decode(firstInStep: true, sequences: 4, kvPositions: 2000), 9);
    }

    [Fact]
    public void Defaults_FullBatch_StepNearTheDocumentedCheck()
    {
        // The check in SimulatedEngineOptions' remarks: 256 sequences of 1,000 positions, a step of about 24 ms.
        var latency = new SimulatedLatency(new SimulatedEngineOptions());

        double step = latency.Decode(firstInStep: true, sequences: 256, kvPositions: 256_000);

        Assert.InRange(step, 23, 25);
        Assert.InRange(latency.Decode(firstInStep: true, sequences: 1, kvPositions: 100), 6, 6.1);
        Assert.Equal(80 + 6, latency.Prefill(firstInStep: true, promptTokens: 2000), 9);
    }

    [Fact]
    public void Pacer_LateWakeUps_AreMadeUpByLaterWaits()
    {
        long now = 0;
        var asked = new List<int>();

        // Every sleep wakes 0.7 ms late.
        var pacer = new StepPacer(() => now, ms => { asked.Add(ms); now += (ms * 10) + 7; }, ticksPerSecond: 10_000);

        for (int i = 0; i < 100; i++)
        {
            pacer.Wait(6.4);
        }

        double total = now / 10.0;
        Assert.InRange(total, 640 - 1, 640 + 1);
        Assert.Contains(5, asked); // some waits were shortened by the lateness carried
    }

    [Fact]
    public void Pacer_LongStall_IsCarriedAtMostTheCap()
    {
        long now = 0;
        var pacer = new StepPacer(() => now, ms => now += ms + 500, ticksPerSecond: 1000);

        pacer.Wait(6);

        Assert.Equal(StepPacer.MaxCarryMs, pacer.CarryMs);
    }

    [Theory]
    [InlineData(nameof(SimulatedEngineOptions.PrefillMsPerToken), "PrefillMsPerToken must be a number of milliseconds between 0 and 60000; it is -1.")]
    [InlineData(nameof(SimulatedEngineOptions.DecodeBaseMs), "DecodeBaseMs must be a number of milliseconds between 0 and 60000; it is -1.")]
    public void Validate_NegativeTime_NamesTheKey(string name, string message)
    {
        var options = name == nameof(SimulatedEngineOptions.PrefillMsPerToken)
            ? new SimulatedEngineOptions { PrefillMsPerToken = -1 }
            : new SimulatedEngineOptions { DecodeBaseMs = -1 };

        Assert.Equal("ModelServer:Simulated:" + message, options.Validate("ModelServer:Simulated:"));
    }

    [Fact]
    public void Validate_BudgetBelowOneSequence_SaysWhatItMustHold()
    {
        var options = new SimulatedEngineOptions { KvBudgetTokens = 100, ContextLength = 4096 };

        Assert.Equal("KvBudgetTokens must hold at least one full sequence (ContextLength, 4096); it is 100.", options.Validate());
        Assert.Null(new SimulatedEngineOptions().Validate());
    }
}
