using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>The KV token budget of <see cref="SlotTable"/>: reservations, and cached prefixes evicted least recently used, from their ends.</summary>
public sealed class SlotTableBudgetTests
{
    [Fact]
    public void Append_OverTheBudget_TrimsTheLeastRecentlyFreedRowFromItsEnd()
    {
        var slots = new SlotTable(4, 64, tokenBudget: 50);
        int older = Fill(slots, 100, 20);
        int newer = Fill(slots, 200, 20);

        int grower = slots.AcquireAny();
        slots.Append(grower, [.. Enumerable.Range(300, 25)]);

        Assert.NotEqual(older, grower); // the never-used row was taken, not a cached one
        Assert.Equal(5, slots.Length(older)); // 20 + 20 + 25 = 65 > 50: the older prefix gave its last 15 positions
        Assert.Equal(20, slots.Length(newer));
        Assert.Equal(15, slots.EvictedPositions);
        Assert.Equal(50, slots.BusyPositions + slots.CachedPositions);
    }

    [Fact]
    public void Acquire_TrimmedPrefix_ReusesWhatIsLeftOfIt()
    {
        var slots = new SlotTable(3, 64, tokenBudget: 40);
        int[] prompt = [.. Enumerable.Range(1, 30)];
        Fill(slots, prompt);
        int other = slots.AcquireAny();
        slots.Append(other, [.. Enumerable.Range(100, 25)]);
        slots.Release(other);

        SlotAssignment again = slots.Acquire(prompt);

        Assert.Equal(15, again.ReusedTokens); // 30 + 25 = 55 > 40: the first prompt's last 15 positions went
    }

    [Fact]
    public void CanReserve_CountsBusyRowsOnly_CachedPrefixesGiveWay()
    {
        var slots = new SlotTable(4, 64, tokenBudget: 100);
        Fill(slots, 1, 60);
        int busy = slots.AcquireAny();
        slots.Reserve(busy, 60);

        Assert.True(slots.CanReserve(40));
        Assert.False(slots.CanReserve(41));
    }

    [Fact]
    public void Acquire_EqualMatches_TakesTheLeastRecentlyFreedRow()
    {
        var slots = new SlotTable(2, 64);
        int first = Fill(slots, 10, 5);
        int second = Fill(slots, 20, 5);

        SlotAssignment next = slots.Acquire([99, 98, 97]);

        Assert.Equal(first, next.Slot);
        Assert.NotEqual(first, second);
    }

    /// <summary>Runs a sequence of <paramref name="count"/> tokens from <paramref name="start"/> through a row and frees it; returns the row.</summary>
    private static int Fill(SlotTable slots, int start, int count) => Fill(slots, [.. Enumerable.Range(start, count)]);

    private static int Fill(SlotTable slots, int[] tokens)
    {
        SlotAssignment row = slots.Acquire(tokens);
        slots.Append(row.Slot, tokens.AsSpan(row.ReusedTokens));
        slots.Release(row.Slot);
        return row.Slot;
    }
}
