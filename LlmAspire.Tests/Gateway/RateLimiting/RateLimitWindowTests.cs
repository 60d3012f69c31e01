using System.Text;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Requests;
using Microsoft.AspNetCore.Http;
using LlmAspire.Gateway.RateLimiting;

namespace LlmAspire.Tests.Gateway.RateLimiting;

/// <summary>The sliding-window arithmetic, the in-memory store and the usage reader, on a clock the test moves.</summary>
public sealed class RateLimitWindowTests
{
    private static readonly DateTimeOffset s_windowStart = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60);

    [Fact]
    public void Locate_CountsWindowsFromTheEpoch()
    {
        var clock = new ManualTimeProvider(s_windowStart.AddSeconds(15));

        var position = SlidingWindow.Locate(clock.GetUtcNow(), SlidingWindow.Minute);

        Assert.Equal(s_windowStart.ToUnixTimeSeconds() / 60, position.Index);
        Assert.Equal(0.25, position.ElapsedFraction, 6);
        Assert.Equal(0.75, position.PreviousWeight, 6);
        Assert.Equal(TimeSpan.FromSeconds(45), position.UntilWindowEnd);
    }

    [Fact]
    public void Estimate_WeighsThePreviousWindowByItsOverlap()
    {
        Assert.Equal(10 * 0.75 + 2, SlidingWindow.Estimate(10, 2, 0.75), 6);
        Assert.True(SlidingWindow.Allows(10, 10, 2, 0.75, 0));
        Assert.False(SlidingWindow.Allows(10, 10, 2, 0.75, 1));
        Assert.True(SlidingWindow.Allows(0, 1_000, 1_000, 1, 1_000), "A limit of 0 is no limit.");
        Assert.Equal(0, SlidingWindow.Remaining(10, 10, 2, 0.75));
        Assert.Equal(5, SlidingWindow.Remaining(10, 0, 5, 0.75));
    }

    [Fact]
    public void RetryAfter_WaitsForThePreviousWindowToDecay()
    {
        // 60 s windows, 15 s in: previous 10 weighs 7.5; current 2; limit 10. One more fits once 10 × (1 − f) ≤ 7, at f = 0.3.
        var position = SlidingWindow.Locate(s_windowStart.AddSeconds(15), SlidingWindow.Minute);

        var wait = SlidingWindow.RetryAfter(10, 10, 2, position, 1);

        Assert.Equal(3_000, wait.TotalMilliseconds, 0);
    }

    [Fact]
    public void RetryAfter_WhenTheCurrentWindowIsFull_WaitsIntoTheNext()
    {
        // Current 10 of 10, 15 s in: next window starts in 45 s, where 10 × (1 − g) ≤ 9 at g = 0.1 (6 s more).
        var position = SlidingWindow.Locate(s_windowStart.AddSeconds(15), SlidingWindow.Minute);

        Assert.Equal(51_000, SlidingWindow.RetryAfter(10, 0, 10, position, 1).TotalMilliseconds, 0);
        Assert.Equal(TimeSpan.Zero, SlidingWindow.RetryAfter(10, 0, 9, position, 1));
        Assert.Equal(TimeSpan.FromSeconds(105), SlidingWindow.RetryAfter(10, 0, 0, position, 11));
    }

    [Fact]
    public void ResetAfter_IsWhenTheEstimateReachesZero()
    {
        var position = SlidingWindow.Locate(s_windowStart.AddSeconds(15), SlidingWindow.Minute);

        Assert.Equal(TimeSpan.FromSeconds(105), SlidingWindow.ResetAfter(3, 1, position));
        Assert.Equal(TimeSpan.FromSeconds(45), SlidingWindow.ResetAfter(3, 0, position));
        Assert.Equal(TimeSpan.Zero, SlidingWindow.ResetAfter(0, 0, position));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(120, "120ms")]
    [InlineData(1_000, "1s")]
    [InlineData(59_500, "59.5s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(3_723_000, "1h2m3s")]
    public void FormatDuration_WritesOpenAIResetHeaders(int milliseconds, string expected) =>
        Assert.Equal(expected, SlidingWindow.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public async Task MemoryStore_RefusesOverTheLimit_ThenAllowsAsTheWindowSlides()
    {
        var clock = new ManualTimeProvider(s_windowStart.AddSeconds(30));
        var store = new MemoryRateLimitStore();

        for (var i = 0; i < 3; i++)
        {
            Assert.True((await AcquireAsync(store, clock, requestLimit: 3))!.Value.Allowed);
        }

        var refused = (await AcquireAsync(store, clock, requestLimit: 3))!.Value;
        Assert.False(refused.Allowed);
        Assert.Equal(3, refused.CurrentRequests);

        // Into the next window: the previous 3 weigh 3 × (1 − 0.5) = 1.5 at its middle, so one more fits, not two.
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.True((await AcquireAsync(store, clock, requestLimit: 3))!.Value.Allowed);
        Assert.False((await AcquireAsync(store, clock, requestLimit: 3))!.Value.Allowed);

        // Two windows later nothing weighs any more.
        clock.Advance(TimeSpan.FromSeconds(120));
        var fresh = (await AcquireAsync(store, clock, requestLimit: 3))!.Value;
        Assert.True(fresh.Allowed);
        Assert.Equal(0, fresh.PreviousRequests);
        Assert.Equal(1, fresh.CurrentRequests);
    }

    [Fact]
    public async Task MemoryStore_TokenReservationIsCorrected_AndBothBudgetsMustAllow()
    {
        var clock = new ManualTimeProvider(s_windowStart.AddSeconds(1));
        var store = new MemoryRateLimitStore();

        var first = (await AcquireAsync(store, clock, requestLimit: 100, tokenLimit: 100, tokenCost: 60))!.Value;
        Assert.True(first.Allowed);
        Assert.False((await AcquireAsync(store, clock, requestLimit: 100, tokenLimit: 100, tokenCost: 60))!.Value.Allowed);

        var position = SlidingWindow.Locate(clock.GetUtcNow(), SlidingWindow.Minute);
        await store.AdjustTokensAsync("key", position.Index, -50, CancellationToken.None);
        var second = (await AcquireAsync(store, clock, requestLimit: 100, tokenLimit: 100, tokenCost: 60))!.Value;

        Assert.True(second.Allowed);
        Assert.Equal(70, second.CurrentTokens);
        Assert.Equal(2, second.CurrentRequests);
    }

    [Fact]
    public void TokenEstimator_ReservesPromptEstimatePlusMaxTokensTimesN()
    {
        var request = CompletionRequestInfo.TryParse("/v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"12345678","max_tokens":10,"n":2}"""))!;
        var defaults = CompletionRequestInfo.TryParse("/v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"123"}"""))!;

        Assert.Equal(2 + 20, TokenEstimator.Reserve(request, new RateLimitOptions()));
        Assert.Equal(1 + 16, TokenEstimator.Reserve(defaults, new RateLimitOptions()));
    }

    [Theory]
    [InlineData("application/json", """{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}""", 8L)]
    [InlineData("application/json; charset=utf-8", """{"usage":{"prompt_tokens":5,"completion_tokens":3}}""", 8L)]
    [InlineData("text/event-stream", "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}\n\ndata: [DONE]\n\n", 6L)]
    [InlineData("text/event-stream", "data: {\"choices\":[{\"text\":\"a\"}],\"usage\":null}\n\ndata: [DONE]\n\n", null)]
    [InlineData("application/json", """{"object":"response","usage":{"input_tokens":5,"output_tokens":3}}""", 8L)]
    [InlineData("text/event-stream", "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"object\":\"response\",\"usage\":{\"input_tokens\":4,\"output_tokens\":3,\"total_tokens\":7}}}\n\n", 7L)]
    [InlineData("text/plain", "usage", null)]
    public void UsageObserver_FindsTheUsageOfJsonAndEventStreams(string contentType, string body, long? expected)
    {
        var context = new DefaultHttpContext();
        context.Response.ContentType = contentType;
        using var sink = new MemoryStream();
        using var observer = new UsageObserverStream(sink, context.Response);
        var bytes = Encoding.UTF8.GetBytes(body);

        // Written in awkward pieces, as a proxy would: lines split across writes.
        for (var offset = 0; offset < bytes.Length; offset += 7)
        {
            observer.Write(bytes.AsSpan(offset, Math.Min(7, bytes.Length - offset)));
        }

        observer.Complete();

        Assert.Equal(expected, observer.TotalTokens);
        Assert.Equal(bytes, sink.ToArray());
    }

    private static Task<RateLimitCounts?> AcquireAsync(IRateLimitStore store, TimeProvider clock, long requestLimit, long tokenLimit = 0, long tokenCost = 0)
    {
        var position = SlidingWindow.Locate(clock.GetUtcNow(), SlidingWindow.Minute);
        return store.TryAcquireAsync(new RateLimitRequest("key", position.Index, position.PreviousWeight, requestLimit, tokenLimit, tokenCost), CancellationToken.None);
    }
}

/// <summary>A clock that moves only when told.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
