using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

public sealed class SlotTableTests
{
    [Fact]
    public void Acquire_FreeRowHoldingThePrompt_ReusesAllButTheLastToken()
    {
        var slots = new SlotTable(3, 16);
        int[] prompt = [1, 5, 6, 7];
        SlotAssignment first = slots.Acquire(prompt);
        slots.Append(first.Slot, prompt);
        slots.Append(first.Slot, [9, 10]);
        slots.Release(first.Slot);

        SlotAssignment again = slots.Acquire(prompt);

        Assert.Equal(first.Slot, again.Slot);
        Assert.Equal(3, again.ReusedTokens); // the last prompt token is computed again for its logits
        Assert.Equal(-1, again.CopyFrom);
        Assert.Equal(3, slots.Length(again.Slot));
    }

    [Fact]
    public void Acquire_LongerPrefixInABusyRow_CopiesFromIt()
    {
        var slots = new SlotTable(3, 16);
        SlotAssignment busy = slots.Acquire([1, 2, 3, 4, 5]);
        slots.Append(busy.Slot, [1, 2, 3, 4, 5]);

        SlotAssignment next = slots.Acquire([1, 2, 3, 9]);

        Assert.NotEqual(busy.Slot, next.Slot);
        Assert.Equal(busy.Slot, next.CopyFrom);
        Assert.Equal(3, next.ReusedTokens);
    }

    [Fact]
    public void Acquire_PicksTheFreeRowWithTheLongestMatch()
    {
        var slots = new SlotTable(3, 16);
        foreach (int[] tokens in new[] { new[] { 1, 2 }, new[] { 1, 7, 7, 7 }, new[] { 1, 7, 8 } })
        {
            SlotAssignment a = slots.Acquire(tokens);
            slots.Append(a.Slot, tokens.AsSpan(a.ReusedTokens));
        }

        for (int i = 0; i < 3; i++)
        {
            slots.Release(i);
        }

        SlotAssignment chosen = slots.Acquire([1, 7, 7, 7, 7]);

        Assert.Equal(1, chosen.Slot);
        Assert.Equal(4, chosen.ReusedTokens);
        Assert.Equal(2, slots.FreeCount);
    }

    [Fact]
    public void Release_FullRow_KeepsOnePositionFreeForBatchedSteps()
    {
        var slots = new SlotTable(1, 4);
        SlotAssignment a = slots.Acquire([1]);
        slots.Append(a.Slot, [1, 2, 3, 4]);

        slots.Release(a.Slot);

        Assert.Equal(3, slots.Length(a.Slot));
        Assert.Throws<InvalidOperationException>(() => slots.Append(a.Slot, [5]));
    }

    [Fact]
    public void Acquire_NoFreeRow_Throws()
    {
        var slots = new SlotTable(1, 4);
        slots.Acquire([1]);

        Assert.Throws<InvalidOperationException>(() => slots.Acquire([1]));
        Assert.Equal(0, slots.FreeCount);
    }

    [Fact]
    public void BusyPositions_CountsRowsHeldBySequencesNotCachedPrefixes()
    {
        // vllm:kv_cache_usage_perc is BusyPositions over all positions: a freed row's kept prefix must read as 0.
        var slots = new SlotTable(2, 16);
        SlotAssignment a = slots.Acquire([1, 2, 3]);
        slots.Append(a.Slot, [1, 2, 3, 4, 5]);
        SlotAssignment b = slots.Acquire([7, 8]);
        slots.Append(b.Slot, [7, 8]);
        Assert.Equal(7, slots.BusyPositions);

        slots.Release(a.Slot);
        Assert.Equal(2, slots.BusyPositions);
        Assert.Equal(5, slots.Length(a.Slot)); // still cached for the next prompt that shares it

        slots.Release(b.Slot);
        Assert.Equal(0, slots.BusyPositions);
    }
}
