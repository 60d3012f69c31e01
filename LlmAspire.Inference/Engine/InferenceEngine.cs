using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Engine.Speculation;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// Iteration-level continuous batching on one model. A dedicated thread runs steps: admit waiting requests into
/// free KV rows (reusing cached prefixes), compute prompt chunks within a token budget, then one decode pass over
/// every running sequence. New requests join at the next step; finished or abandoned ones leave at once.
/// With <see cref="EngineOptions.Speculative"/> on, a decode pass also checks tokens proposed by prompt lookup
/// (<see cref="NgramProposer"/>) while few sequences decode: see <see cref="Decode"/>.
/// </summary>
internal sealed class InferenceEngine : IDisposable
{
    private readonly IBatchModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly HashSet<int> _endTokens;
    private float[] _maskedLogits = [];
    private readonly EngineOptions _options;
    private readonly IEngineListener _listener;
    private readonly SlotTable _slots;
    private readonly ConcurrentQueue<Group> _incoming = new();
    private readonly List<Group> _waiting = [];
    private readonly List<Choice> _running = [];

    /// <summary>
    /// Positions of padding a shared prompt pass may compute for each pass of its own row it saves. A pass reads every
    /// weight once, which on a CPU costs about what a dozen more positions cost inside a pass: ~10 ms vs ~0.85 ms per
    /// position of a 256-token prompt, 100M float32 model, 2 cores; ~4 ms vs ~0.7 ms with int8 weights.
    /// </summary>
    private const int PaddingPerSavedPass = 8;

    /// <summary>This step's prompts with one token to compute, fed in its decode pass (<see cref="Prefill"/>).</summary>
    private readonly List<Choice> _riders = [];

    // A decode step's list and arrays (a row each), reused from step to step, as the logits are (ForwardBuffers).
    private readonly List<Choice> _decoding = [];
    private readonly int[] _stepLengths;
    private readonly int[] _stepTokens;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private int _waitingCount;
    private int _runningCount;
    private readonly Lock _idleLock = new();
    private TaskCompletionSource? _idle;
    private volatile bool _stopping;
    private volatile bool _draining;

    /// <summary>Starts the engine thread over <paramref name="model"/>; any of <paramref name="endTokens"/> ends a generation.</summary>
    public InferenceEngine(IBatchModel model, ITokenizer tokenizer, IEnumerable<int> endTokens, EngineOptions options, IEngineListener? listener = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _endTokens = [.. endTokens ?? throw new ArgumentNullException(nameof(endTokens))];
        _listener = listener ?? NullListener.Instance;
        if (_options.Speculative?.Validate("Speculative.") is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(options));
        }

        _slots = new SlotTable(model.Slots, model.Context, model.KvTokenBudget);
        _stepLengths = new int[model.Slots];
        _stepTokens = new int[model.Slots];
        _thread = new Thread(Loop) { IsBackground = true, Name = "llmaspire-engine" };
        _thread.Start();
    }

    /// <summary>Positions per sequence: prompt plus completion must fit.</summary>
    public int Context => _model.Context;

    /// <summary>Requests holding KV rows now.</summary>
    public int Running => Volatile.Read(ref _runningCount);

    /// <summary>Requests waiting for rows.</summary>
    public int Waiting => Volatile.Read(ref _waitingCount);

    /// <summary>
    /// Refuses new requests from now on (<see cref="EngineStoppedException"/>) and completes once every request
    /// submitted before has finished, failed or been cancelled. Awaited, never polled: the engine thread signals it.
    /// </summary>
    public Task DrainAsync()
    {
        _draining = true;
        lock (_idleLock)
        {
            if (_stopping)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // The engine thread may be asleep with nothing to do: wake it so it looks and signals.
            _wake.Release();
            return _idle.Task;
        }
    }

    /// <summary>
    /// Queues a request and returns its stream of updates (choices interleaved, each ending with a finish reason).
    /// Throws at once when the prompt and budget cannot fit (<see cref="ContextLengthExceededException"/>) or the
    /// queue is full (<see cref="EngineQueueFullException"/>).
    /// </summary>
    public ChannelReader<GenerationUpdate> Submit(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_stopping || _draining)
        {
            throw new EngineStoppedException();
        }

        int prompt = request.PromptTokens.Count;
        if (prompt == 0)
        {
            throw new ArgumentException("The prompt has no tokens.", nameof(request));
        }

        if (request.MaxTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.MaxTokens, "MaxTokens must be at least 1.");
        }

        if (prompt + request.MaxTokens > Context)
        {
            throw new ContextLengthExceededException(Context, prompt, request.MaxTokens);
        }

        if (request.N < 1 || request.N > _model.Slots)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.N, $"n must be between 1 and {_model.Slots}.");
        }

        if (_slots.HasTokenBudget && Reservation(request) > _slots.TokenBudget)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.N,
                $"n = {request.N} sequences of {prompt} + {request.MaxTokens} positions exceed the KV budget of {_slots.TokenBudget} tokens.");
        }

        var group = new Group(request, cancellationToken, this);

        // Requests not yet picked up by the engine thread count as waiting; rows still free take them at the next
        // step, so a burst is refused only beyond MaxQueue plus the free rows.
        int capacity = _options.MaxQueue + Math.Max(0, _model.Slots - Running);
        if (Interlocked.Increment(ref _waitingCount) > capacity)
        {
            int waiting = Interlocked.Decrement(ref _waitingCount);
            throw new EngineQueueFullException(waiting);
        }

        group.Registration = cancellationToken.Register(static state => ((Group)state!).Cancel(), group);
        _incoming.Enqueue(group);
        _wake.Release();
        return group.Output.Reader;
    }

    /// <summary>Submits <paramref name="request"/> and streams its updates.</summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChannelReader<GenerationUpdate> reader = Submit(request, cancellationToken);
        await foreach (GenerationUpdate update in reader.ReadAllAsync(cancellationToken))
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        lock (_idleLock)
        {
            _stopping = true;
        }

        _wake.Release();
        _thread.Join();
        var disposed = new ObjectDisposedException(nameof(InferenceEngine));
        while (_incoming.TryDequeue(out Group? group))
        {
            group.Fail(disposed);
        }

        foreach (Group group in _waiting.Concat(_running.Select(c => c.Group)).Distinct())
        {
            group.Fail(disposed);
        }

        SignalIdle(force: true);
        _wake.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop()
    {
        while (!_stopping)
        {
            while (_incoming.TryDequeue(out Group? group))
            {
                _waiting.Add(group);
            }

            ReapCancelled();
            Admit();
            bool worked = Prefill();
            worked |= Decode();
            if (worked)
            {
                _model.EndStep();
            }

            _listener.StepCompleted(Running, Waiting, _slots.BusyPositions / (double)_slots.Capacity);
            if (!worked && !_stopping)
            {
                SignalIdle();
                _wake.Wait();
            }
        }
    }

    /// <summary>Completes <see cref="DrainAsync"/> once nothing runs or waits.</summary>
    private void SignalIdle(bool force = false)
    {
        if (!force && (Running > 0 || Waiting > 0))
        {
            return;
        }

        TaskCompletionSource? idle;
        lock (_idleLock)
        {
            idle = _idle;
            _idle = null;
        }

        idle?.TrySetResult();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReapCancelled()
    {
        for (int i = _waiting.Count - 1; i >= 0; i--)
        {
            if (_waiting[i].Cancelled)
            {
                Group group = _waiting[i];
                _waiting.RemoveAt(i);
                Interlocked.Decrement(ref _waitingCount);
                group.Fail(new OperationCanceledException(group.CancellationToken));
            }
        }

        // Every step runs this: build nothing unless someone has actually gone.
        if (!_running.Exists(static c => c.Group.Cancelled))
        {
            return;
        }

        foreach (Group group in _running.Where(c => c.Group.Cancelled).Select(c => c.Group).Distinct().ToList())
        {
            foreach (Choice choice in group.Choices.Where(c => c.Phase != Phase.Done))
            {
                _listener.ChoiceFinished(null, Elapsed(group.SubmittedAt), group.Request.PromptTokens.Count, choice.Generated.Count);
                Retire(choice);
            }

            group.Fail(new OperationCanceledException(group.CancellationToken));
        }
    }

    /// <summary>
    /// Positions a request may come to hold: each of its sequences' prompt plus completion budget (a sequence's KV is its
    /// own here, so choices do not share the prompt's positions).
    /// </summary>
    private long Reservation(GenerationRequest request) =>
        (long)request.N * Math.Min(Context, request.PromptTokens.Count + (long)request.MaxTokens);

    /// <summary>
    /// Moves waiting requests, oldest first, into free rows while rows are free and, under a KV token budget, their
    /// reservations fit beside those of the running ones (cached prefixes give way as the rows grow: see
    /// <see cref="SlotTable"/>). Reserving the completion budget up front means a running sequence never has to be
    /// preempted, where vLLM admits on the prompt's blocks and preempts when decoding runs out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Admit()
    {
        while (_waiting.Count > 0 && _slots.FreeCount >= _waiting[0].Request.N && _slots.CanReserve(Reservation(_waiting[0].Request)))
        {
            Group group = _waiting[0];
            _waiting.RemoveAt(0);
            Interlocked.Decrement(ref _waitingCount);
            Interlocked.Increment(ref _runningCount);
            IReadOnlyList<int> prompt = group.Request.PromptTokens;

            SlotAssignment first = _slots.Acquire(prompt);
            if (first.CopyFrom >= 0)
            {
                _model.CopyPrefix(first.CopyFrom, first.Slot, first.ReusedTokens);
            }

            group.CachedTokens = first.ReusedTokens;
            group.QueueTime = Elapsed(group.SubmittedAt);
            foreach (Choice choice in group.Choices)
            {
                choice.Slot = choice.Index == 0 ? first.Slot : _slots.AcquireAny();
                _slots.Reserve(choice.Slot, prompt.Count + choice.Budget);
                choice.Phase = choice.Index == 0 ? Phase.Prefill : Phase.AwaitingPrompt;
                _running.Add(choice);
            }

            _listener.RequestScheduled(Elapsed(group.SubmittedAt), prompt.Count, first.ReusedTokens);
        }
    }

    /// <summary>
    /// Computes this step's prompt chunks, oldest first, within <see cref="EngineOptions.PrefillChunkTokens"/>. A chunk of
    /// one token (a prompt whose prefix was cached: only its last token is left to compute) is left to ride this step's
    /// decode pass (<see cref="_riders"/>), where it costs a row instead of a whole pass over the weights (where the model
    /// allows: <see cref="IBatchModel.TakesPromptTokensInDecodePass"/>). Chunks of several tokens share one pass when the
    /// model takes several rows' tokens at once and the padding costs little (<see cref="PrefillTogether"/>), else each
    /// takes a pass of its own row. Sixteen requests arriving together used to take sixteen passes over every weight
    /// before their first decode step; now cached prompts take none of their own and new ones one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Prefill()
    {
        if (!_running.Exists(static c => c.Phase == Phase.Prefill))
        {
            return false;
        }

        int budget = Math.Max(1, _options.PrefillChunkTokens);
        var chunks = new List<Chunk>();
        foreach (Choice choice in _running)
        {
            if (budget <= 0)
            {
                break;
            }

            if (choice.Phase != Phase.Prefill)
            {
                continue;
            }

            int computed = _slots.Length(choice.Slot);
            int count = Math.Min(choice.Group.Prompt.Length - computed, budget);
            budget -= count;
            if (count == 1 && _model.TakesPromptTokensInDecodePass)
            {
                _riders.Add(choice);
            }
            else
            {
                chunks.Add(new Chunk(choice, computed, count));
            }
        }

        if (chunks.Count > 1 && _model.ChecksSeveralRows && PrefillTogether(chunks))
        {
            return true;
        }

        bool worked = false;
        foreach ((Choice choice, int computed, int count) in chunks)
        {
            int[] prompt = choice.Group.Prompt;
            float[] logits;
            try
            {
                logits = _model.Prefill(choice.Slot, computed, prompt.AsSpan(computed, count));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                FailGroup(choice.Group, ex);
                continue;
            }

            worked = true;
            _slots.Append(choice.Slot, prompt.AsSpan(computed, count));
            if (computed + count == prompt.Length)
            {
                CompletePrompt(choice, logits);
            }
        }

        return worked;
    }

    /// <summary>
    /// Computes <paramref name="chunks"/> in one pass over the rows from the first of theirs to the last, each padded to
    /// the longest (the padding is computed and left stale); rows of the range without a chunk take as many throw-away
    /// tokens after what they hold, as in <see cref="CheckTogether"/>. False, with nothing done, when the padding would
    /// cost more than the passes it saves (more than <see cref="PaddingPerSavedPass"/> positions each: prompts of
    /// different lengths, or rows far apart), or some row of the range has no room for the padded width after its own
    /// positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool PrefillTogether(List<Chunk> chunks)
    {
        int first = chunks.Min(c => c.Choice.Slot);
        int rows = chunks.Max(c => c.Choice.Slot) - first + 1;
        int width = chunks.Max(c => c.Count);
        long padding = ((long)rows * width) - chunks.Sum(c => (long)c.Count);
        if (padding > (long)(chunks.Count - 1) * PaddingPerSavedPass)
        {
            return false;
        }

        int[] lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = _model.ComputesEveryRow ? _slots.Length(first + r) : -1;
        }

        foreach (Chunk chunk in chunks)
        {
            lengths[chunk.Choice.Slot - first] = chunk.Computed;
        }

        if (lengths.Any(length => length + width > _slots.Context))
        {
            return false;
        }

        int[] tokens = new int[rows * width];
        int[] counts = new int[rows];
        foreach ((Choice choice, int computed, int count) in chunks)
        {
            int row = choice.Slot - first;
            Span<int> fed = tokens.AsSpan(row * width, width);
            ReadOnlySpan<int> chunk = choice.Group.Prompt.AsSpan(computed, count);
            chunk.CopyTo(fed);
            fed[count..].Fill(chunk[^1]);
            counts[row] = count;
        }

        float[] logits;
        try
        {
            logits = _model.Prefill(first, lengths, tokens, width, counts);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            foreach (Group group in chunks.Select(c => c.Choice.Group).Distinct().ToList())
            {
                FailGroup(group, ex);
            }

            return true;
        }

        int vocab = _model.VocabSize;
        foreach ((Choice choice, int computed, int count) in chunks)
        {
            int[] prompt = choice.Group.Prompt;
            _slots.Append(choice.Slot, prompt.AsSpan(computed, count));
            if (computed + count == prompt.Length)
            {
                CompletePrompt(choice, logits.AsSpan((choice.Slot - first) * vocab, vocab));
            }
        }

        return true;
    }

    /// <summary>
    /// <paramref name="choice"/>'s prompt is computed and <paramref name="logits"/> are its last position's: its siblings
    /// (a request's other choices) copy its KV, and every choice of the request emits its first token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CompletePrompt(Choice choice, ReadOnlySpan<float> logits)
    {
        int[] prompt = choice.Group.Prompt;
        foreach (Choice sibling in choice.Group.Choices.Where(c => c.Phase == Phase.AwaitingPrompt))
        {
            _model.CopyPrefix(choice.Slot, sibling.Slot, prompt.Length);
            _slots.Replace(sibling.Slot, prompt);
        }

        foreach (Choice each in choice.Group.Choices)
        {
            each.Phase = Phase.Decode;
            Emit(each, logits);
        }
    }

    /// <summary>
    /// After a pass that fed each of <paramref name="riders"/> its next prompt token: appends the token to its row, and
    /// completes the prompt when that was its last token, from <paramref name="logits"/> (the row's logits at
    /// <paramref name="stride"/> floats per row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Ride(List<Choice> riders, float[] logits, int stride)
    {
        foreach (Choice rider in riders)
        {
            if (rider.Phase != Phase.Prefill)
            {
                continue;
            }

            int[] prompt = rider.Group.Prompt;
            int computed = _slots.Length(rider.Slot);
            _slots.Append(rider.Slot, prompt.AsSpan(computed, 1));
            if (computed + 1 == prompt.Length)
            {
                CompletePrompt(rider, logits.AsSpan(rider.Slot * stride, _model.VocabSize));
            }
        }
    }

    /// <summary>
    /// One pass over every decoding sequence. Speculating (see <see cref="SpeculationRoom"/>), a sequence with a
    /// proposal d1..dk instead feeds [last token, d1..dk] at its positions L..L+k in a checking pass and gets the
    /// logits of each position. Then, from j = 0: a token is drawn from position j's logits by the sequence's own
    /// sampler and emitted as usual; if it equals d(j+1) and the sequence goes on, position j + 1's logits are valid
    /// too and it continues; else the step ends there. Drawing from the model and accepting only equality with a
    /// fixed proposal leaves the output distribution untouched and consumes the sampler exactly as one token per
    /// pass would: greedy and seeded output match decoding without speculation (up to the float differences between
    /// one k + 1-token pass and k + 1 one-token passes). The row's KV keeps the fed tokens whose successor was
    /// accepted; later positions are stale and overwritten by the next pass. Grammar-constrained choices never
    /// speculate: their matcher would have to be rolled back when a proposal is refused.
    /// </summary>
    /// <remarks>
    /// Where the model takes several new tokens for several rows after their pasts (<see cref="IBatchModel.ChecksSeveralRows"/>:
    /// our CPU attention kernel, <see cref="AttentionKernelChoice.LlmAspire"/>), one pass checks every proposal
    /// (<see cref="CheckTogether"/>). ONNX Runtime's GroupQueryAttention (the CUDA provider, float16 graphs) refuses such
    /// a pass once a past is given ("batch_size must be 1 when sequence_length &gt; 1 and past context is given"): there
    /// the sequences without a proposal share one pass, and each sequence with one takes its own.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Decode()
    {
        List<Choice> decoding = _decoding;
        foreach (Choice choice in _running)
        {
            if (choice.Phase == Phase.Decode)
            {
                decoding.Add(choice);
            }
        }

        List<Choice> riders = _riders;
        if (decoding.Count == 0 && riders.Count == 0)
        {
            return false;
        }

        try
        {
            int room = SpeculationRoom(decoding.Count + riders.Count);
            Propose(decoding, room);
            if (room <= 0 || !decoding.Exists(static c => c.DraftCount > 0))
            {
                // Nothing proposed (always so with speculation off): one pass over every decoding row, no second list.
                DecodeTogether(decoding, riders);
                return true;
            }

            if (_model.ChecksSeveralRows && CheckTogether(decoding, riders))
            {
                return true;
            }

            List<Choice> single = [.. decoding.Where(c => c.DraftCount == 0)];
            if (single.Count > 0 || riders.Count > 0)
            {
                DecodeTogether(single, riders);
            }

            foreach (Choice choice in decoding.Where(c => c.DraftCount > 0))
            {
                Verify(choice);
            }

            return true;
        }
        finally
        {
            decoding.Clear();
            riders.Clear();
        }
    }

    /// <summary>
    /// One pass of one token per row over the rows up to the last of <paramref name="decoding"/> and
    /// <paramref name="riders"/>: each decoding choice feeds its last token, each rider its next prompt token.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeTogether(List<Choice> decoding, List<Choice> riders)
    {
        int rows = LastRow(decoding, riders) + 1;
        Span<int> lengths = _stepLengths.AsSpan(0, rows);
        Span<int> tokens = _stepTokens.AsSpan(0, rows);
        tokens.Clear();
        for (int r = 0; r < rows; r++)
        {
            // Rows not in this pass take a throw-away token at their first unused position, or are left out when the
            // model can. A row checking proposals after this pass overwrites its throw-away position then.
            lengths[r] = _model.ComputesEveryRow ? Math.Min(_slots.Length(r), _slots.Context - 1) : -1;
        }

        foreach (Choice choice in decoding)
        {
            tokens[choice.Slot] = choice.LastToken;
            lengths[choice.Slot] = _slots.Length(choice.Slot);
        }

        foreach (Choice rider in riders)
        {
            lengths[rider.Slot] = _slots.Length(rider.Slot);
            tokens[rider.Slot] = rider.Group.Prompt[lengths[rider.Slot]];
        }

        float[] logits;
        try
        {
            logits = _model.Forward(0, lengths, tokens, 1, allPositions: false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            FailAll(decoding, riders, ex);
            return;
        }

        int vocab = _model.VocabSize;
        foreach (Choice choice in decoding)
        {
            _slots.Append(choice.Slot, [choice.LastToken]);
            Emit(choice, logits.AsSpan(choice.Slot * vocab, vocab));
        }

        Ride(riders, logits, vocab);
    }

    /// <summary>The last row a pass over <paramref name="decoding"/> and <paramref name="riders"/> must reach.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int LastRow(List<Choice> decoding, List<Choice> riders)
    {
        int last = -1;
        foreach (Choice choice in decoding)
        {
            last = Math.Max(last, choice.Slot);
        }

        foreach (Choice rider in riders)
        {
            last = Math.Max(last, rider.Slot);
        }

        return last;
    }

    /// <summary>Fails the requests of every choice of a pass that threw.</summary>
    private void FailAll(List<Choice> decoding, List<Choice> riders, Exception error)
    {
        foreach (Group group in decoding.Concat(riders).Select(c => c.Group).Distinct().ToList())
        {
            FailGroup(group, error);
        }
    }

    /// <summary>
    /// One pass over the rows up to the last of <paramref name="decoding"/>, each decoding row fed its last token and its
    /// proposal, padded to the longest one plus one (the padding is computed, its logits never read, and its KV positions
    /// stay stale like a refused proposal's), each rider its next prompt token, padded likewise; rows not in the pass take
    /// as many throw-away tokens after what they hold.
    /// False, with nothing done, when some row of the pass has no room for that many positions after its own (a free
    /// row's cached prefix must not be written over): the caller then checks row by row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool CheckTogether(List<Choice> decoding, List<Choice> riders)
    {
        int width = 1 + decoding.Max(c => c.DraftCount);
        int rows = LastRow(decoding, riders) + 1;
        if (riders.Exists(r => _slots.Length(r.Slot) + width > _slots.Context))
        {
            return false;
        }

        int[] lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = _model.ComputesEveryRow ? _slots.Length(r) : -1;
            if (lengths[r] + width > _slots.Context)
            {
                return false;
            }
        }

        int[] tokens = new int[rows * width];
        foreach (Choice choice in decoding)
        {
            Span<int> fed = tokens.AsSpan(choice.Slot * width, width);
            fed[0] = choice.LastToken;
            choice.Draft.AsSpan(0, choice.DraftCount).CopyTo(fed[1..]);
            fed[(1 + choice.DraftCount)..].Fill(choice.LastToken);
            lengths[choice.Slot] = _slots.Length(choice.Slot);
        }

        foreach (Choice rider in riders)
        {
            lengths[rider.Slot] = _slots.Length(rider.Slot);
            tokens.AsSpan(rider.Slot * width, width).Fill(rider.Group.Prompt[lengths[rider.Slot]]);
        }

        float[] logits;
        try
        {
            logits = _model.Forward(0, lengths, tokens, width, allPositions: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            FailAll(decoding, riders, ex);
            return true;
        }

        int vocab = _model.VocabSize;
        foreach (Choice choice in decoding)
        {
            int count = choice.DraftCount;
            choice.DraftCount = 0;
            Accept(choice, tokens.AsSpan(choice.Slot * width, 1 + count), logits.AsSpan(choice.Slot * width * vocab, (1 + count) * vocab));
        }

        Ride(riders, logits, width * vocab);
        return true;
    }

    /// <summary>Checks <paramref name="choice"/>'s proposal in one pass over its row and emits what is accepted, and one token more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Verify(Choice choice)
    {
        int count = choice.DraftCount;
        choice.DraftCount = 0;
        if (choice.Phase != Phase.Decode)
        {
            // Its group failed in this step's shared pass.
            return;
        }

        int[] fed = new int[1 + count];
        fed[0] = choice.LastToken;
        choice.Draft.AsSpan(0, count).CopyTo(fed.AsSpan(1));
        float[] logits;
        try
        {
            logits = _model.Forward(choice.Slot, [_slots.Length(choice.Slot)], fed, fed.Length, allPositions: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            FailGroup(choice.Group, ex);
            return;
        }

        Accept(choice, fed, logits);
    }

    /// <summary>
    /// Emits a token drawn from each position's <paramref name="logits"/> of the <paramref name="fed"/> tokens (the last
    /// token, then the proposal) while the token drawn equals the next one fed and the choice goes on: what is accepted,
    /// and one token more. The row keeps the fed tokens up to the last accepted one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Accept(Choice choice, ReadOnlySpan<int> fed, ReadOnlySpan<float> logits)
    {
        int count = fed.Length - 1;
        int vocab = _model.VocabSize;
        int accepted = 0;
        for (int j = 0; ; j++)
        {
            _slots.Append(choice.Slot, [fed[j]]);
            Emit(choice, logits.Slice(j * vocab, vocab));
            if (choice.Phase != Phase.Decode || j == count || choice.LastToken != fed[j + 1])
            {
                break;
            }

            accepted++;
        }

        if (count > 0)
        {
            _listener.ProposalsVerified(count, accepted);
        }
    }

    /// <summary>
    /// The most tokens a sequence may propose this step: 0 (no speculation) when it is off, the model cannot return
    /// every position's logits, or more than <see cref="SpeculativeOptions.MaxBatch"/> sequences decode.
    /// </summary>
    private int SpeculationRoom(int decoding)
    {
        SpeculativeOptions speculative = _options.Speculative;
        return speculative is { Enabled: true } && _model.ReturnsAllPositions && decoding <= speculative.MaxBatch ? speculative.Tokens : 0;
    }

    /// <summary>
    /// Fills each unconstrained choice's <see cref="Choice.Draft"/> with up to <paramref name="room"/> proposed tokens
    /// (<see cref="Choice.DraftCount"/>), never more than its row's context holds after the last token, nor more than
    /// its budget can still emit after the one token every step gives.
    /// </summary>
    private void Propose(List<Choice> decoding, int room)
    {
        if (room <= 0)
        {
            return;
        }

        SpeculativeOptions speculative = _options.Speculative;
        foreach (Choice choice in decoding)
        {
            int fits = Math.Min(room, Math.Min(_slots.Context - _slots.Length(choice.Slot) - 1, choice.Budget - choice.Generated.Count - 1));
            if (choice.Matcher is null && choice.History is not null && fits > 0)
            {
                choice.DraftCount = NgramProposer.Propose(CollectionsMarshal.AsSpan(choice.History), speculative.MinNgram, speculative.MaxNgram, choice.Draft.AsSpan(0, fits));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Emit(Choice choice, ReadOnlySpan<float> logits)
    {
        Group group = choice.Group;
        long now = Stopwatch.GetTimestamp();
        if (choice.LastTokenAt == 0)
        {
            choice.TimeToFirstToken = Stopwatch.GetElapsedTime(group.SubmittedAt, now);
            _listener.FirstToken(choice.TimeToFirstToken);
        }
        else
        {
            _listener.NextToken(Stopwatch.GetElapsedTime(choice.LastTokenAt, now));
        }

        choice.LastTokenAt = now;
        int token;
        if (choice.Matcher is { } matcher)
        {
            // Constrained: sample among the tokens the grammar allows (logprobs stay those of the model).
            float[] masked = _maskedLogits.Length == logits.Length ? _maskedLogits : _maskedLogits = new float[logits.Length];
            logits.CopyTo(masked);
            matcher.MaskLogits(masked);
            token = choice.Sampler.Sample(masked);
            matcher.Accept(token);
        }
        else
        {
            token = choice.Sampler.Sample(logits);
        }

        IReadOnlyList<TokenLogprob>? logprobs = group.Request.Logprobs ? [Logprob(logits, token, group.Request.TopLogprobs)] : null;
        if (_endTokens.Contains(token) || group.Request.StopTokenIds?.Contains(token) == true)
        {
            Finish(choice, choice.Stops.Push(choice.Detokenizer.Flush()) + choice.Stops.Flush(), FinishReason.Stop, logprobs);
            return;
        }

        choice.Generated.Add(token);
        choice.History?.Add(token);
        choice.LastToken = token;
        string text = choice.Stops.Push(choice.Detokenizer.Push(token));
        if (choice.Stops.Stopped)
        {
            Finish(choice, text, FinishReason.Stop, logprobs);
        }
        else if (choice.Matcher?.IsTerminated == true)
        {
            // The grammar is complete and nothing can follow: end now rather than spend a step on the end token.
            text += choice.Stops.Push(choice.Detokenizer.Flush());
            text += choice.Stops.Flush();
            Finish(choice, text, FinishReason.Stop, logprobs);
        }
        else if (choice.Generated.Count >= choice.Budget)
        {
            text += choice.Stops.Push(choice.Detokenizer.Flush());
            text += choice.Stops.Flush();
            Finish(choice, text, choice.Stops.Stopped ? FinishReason.Stop : FinishReason.Length, logprobs);
        }
        else if (group.Request.FinalOnly)
        {
            choice.Held.Append(text);
            if (logprobs is not null)
            {
                choice.HeldLogprobs.AddRange(logprobs);
            }
        }
        else if (text.Length > 0 || logprobs is not null)
        {
            group.Output.Writer.TryWrite(new GenerationUpdate(text, choice.Generated.Count, null)
            {
                Index = choice.Index,
                CachedTokens = group.CachedTokens,
                Logprobs = logprobs,
                QueueTime = group.QueueTime,
                TimeToFirstToken = choice.TimeToFirstToken,
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Finish(Choice choice, string text, FinishReason reason, IReadOnlyList<TokenLogprob>? logprobs)
    {
        Group group = choice.Group;
        if (group.Request.FinalOnly && (choice.Held.Length > 0 || choice.HeldLogprobs.Count > 0))
        {
            // What the earlier tokens would have sent, in order, ahead of this last one.
            text = choice.Held.Append(text).ToString();
            if (logprobs is not null)
            {
                choice.HeldLogprobs.AddRange(logprobs);
                logprobs = choice.HeldLogprobs;
            }
        }

        group.Output.Writer.TryWrite(new GenerationUpdate(text, choice.Generated.Count, reason)
        {
            Index = choice.Index,
            CachedTokens = group.CachedTokens,
            Logprobs = logprobs,
            QueueTime = group.QueueTime,
            TimeToFirstToken = choice.TimeToFirstToken,
            TokenIds = [.. choice.Generated],
        });
        _listener.ChoiceFinished(reason, Elapsed(group.SubmittedAt), group.Prompt.Length, choice.Generated.Count);
        Retire(choice);
        if (group.Choices.All(c => c.Phase == Phase.Done))
        {
            group.Complete();
        }
    }

    private void FailGroup(Group group, Exception error)
    {
        foreach (Choice choice in group.Choices.Where(c => c.Phase != Phase.Done))
        {
            if (choice.Slot >= 0)
            {
                _slots.Forget(choice.Slot);
            }

            _listener.ChoiceFinished(null, Elapsed(group.SubmittedAt), group.Prompt.Length, choice.Generated.Count);
            Retire(choice);
        }

        group.Fail(error);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Retire(Choice choice)
    {
        if (choice.Phase == Phase.Done)
        {
            return;
        }

        choice.Phase = Phase.Done;
        _running.Remove(choice);
        if (choice.Slot >= 0)
        {
            _slots.Release(choice.Slot);
        }

        if (choice.Group.Choices.All(c => c.Phase == Phase.Done))
        {
            Interlocked.Decrement(ref _runningCount);
        }
    }

    private TokenLogprob Logprob(ReadOnlySpan<float> logits, int token, int top)
    {
        float logSum = (float)LogProbabilities.LogSumExp(logits);
        var alternatives = new List<TokenLogprob>(top);
        if (top > 0)
        {
            int[] best = new int[Math.Min(top, logits.Length)];
            int count = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                if (count < best.Length)
                {
                    best[count++] = i;
                }
                else if (logits[i] > logits[best[^1]])
                {
                    best[^1] = i;
                }
                else
                {
                    continue;
                }

                // Keep best sorted, highest first (insertion step).
                for (int j = count - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--)
                {
                    (best[j], best[j - 1]) = (best[j - 1], best[j]);
                }
            }

            foreach (int id in best)
            {
                alternatives.Add(Entry(id, logits[id] - logSum, []));
            }
        }

        return Entry(token, logits[token] - logSum, alternatives);
    }

    private TokenLogprob Entry(int id, float logprob, IReadOnlyList<TokenLogprob> top)
    {
        byte[] bytes = _tokenizer.TokenBytes(id).ToArray();
        return new TokenLogprob(id, Encoding.UTF8.GetString(bytes), bytes, logprob, top);
    }

    private static TimeSpan Elapsed(long since) => Stopwatch.GetElapsedTime(since);

    /// <summary>This step's part of a prompt: <paramref name="Count"/> tokens after the <paramref name="Computed"/> already in its row.</summary>
    private readonly record struct Chunk(Choice Choice, int Computed, int Count);

    private enum Phase
    {
        Waiting,
        Prefill,
        AwaitingPrompt,
        Decode,
        Done,
    }

    private sealed class Group
    {
        private readonly InferenceEngine _engine;
        private int _cancelled;

        public Group(GenerationRequest request, CancellationToken cancellationToken, InferenceEngine engine)
        {
            Request = request;
            Prompt = [.. request.PromptTokens];
            CancellationToken = cancellationToken;
            _engine = engine;
            Speculative = engine._options.Speculative ?? new SpeculativeOptions();
            SubmittedAt = Stopwatch.GetTimestamp();
            int budget = Math.Min(request.MaxTokens, engine.Context - Prompt.Length);
            Choices = [.. Enumerable.Range(0, request.N).Select(i => new Choice(this, i, new Sampler(request, i), budget, engine._tokenizer))];
        }

        public GenerationRequest Request { get; }

        public int[] Prompt { get; }

        public SpeculativeOptions Speculative { get; }

        public CancellationToken CancellationToken { get; }

        public CancellationTokenRegistration Registration { get; set; }

        public Channel<GenerationUpdate> Output { get; } = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleWriter = true });

        public long SubmittedAt { get; }

        public Choice[] Choices { get; }

        public int CachedTokens { get; set; }

        public TimeSpan QueueTime { get; set; }

        public bool Cancelled => Volatile.Read(ref _cancelled) != 0;

        public void Cancel()
        {
            Interlocked.Exchange(ref _cancelled, 1);
            try
            {
                _engine._wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // The engine is gone; nothing left to free.
            }
        }

        public void Complete()
        {
            Registration.Dispose();
            Output.Writer.TryComplete();
        }

        public void Fail(Exception error)
        {
            Registration.Dispose();
            Output.Writer.TryComplete(error);
        }
    }

    private sealed class Choice(Group group, int index, Sampler sampler, int budget, ITokenizer tokenizer)
    {
        public Group Group { get; } = group;

        public int Index { get; } = index;

        public Sampler Sampler { get; } = sampler;

        public int Budget { get; } = budget;

        public StreamingDetokenizer Detokenizer { get; } = new(tokenizer);

        public StopSequenceMatcher Stops { get; } = new(group.Request.Stop);

        public GrammarMatcher? Matcher { get; } = group.Request.Grammar?.CreateMatcher();

        public List<int> Generated { get; } = [];

        /// <summary>Prompt and generated tokens, where proposals are looked up; null unless this choice may speculate.</summary>
        public List<int>? History { get; } = group.Speculative.Enabled && group.Request.Grammar is null ? [.. group.Prompt] : null;

        /// <summary>This step's proposed tokens (the first <see cref="DraftCount"/>).</summary>
        public int[] Draft { get; } = new int[group.Speculative.Tokens];

        public int DraftCount { get; set; }

        public Phase Phase { get; set; } = Phase.Waiting;

        public int Slot { get; set; } = -1;

        public int LastToken { get; set; }

        public long LastTokenAt { get; set; }

        public TimeSpan TimeToFirstToken { get; set; }

        /// <summary>With <see cref="GenerationRequest.FinalOnly"/>, the text not sent yet.</summary>
        public StringBuilder Held { get; } = new();

        /// <summary>With <see cref="GenerationRequest.FinalOnly"/> and log-probabilities asked for, those not sent yet.</summary>
        public List<TokenLogprob> HeldLogprobs { get; } = [];
    }

    private sealed class NullListener : IEngineListener
    {
        public static readonly NullListener Instance = new();
    }
}
