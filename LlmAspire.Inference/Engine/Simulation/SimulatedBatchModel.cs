using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Engine.Simulation;

/// <summary>
/// A batch model that computes nothing: each pass sleeps for <see cref="SimulatedLatency"/> and returns logits that make
/// any sampler pick the next token of a fixed passage, so generations read as text of <paramref name="tokenizer"/>'s
/// vocabulary and never end by themselves (they stop at <c>max_tokens</c>, a stop sequence or the context). Which part
/// of the passage a sequence recites is fixed by its last prompt token and its prompt length: the same prompt gives the
/// same text, whatever was cached. It holds no KV memory, so hundreds of rows cost a few integers each; the KV budget
/// it reports (<see cref="IBatchModel.KvTokenBudget"/>) is what bounds the scheduler.
/// </summary>
internal sealed class SimulatedBatchModel : IBatchModel
{
    /// <summary>What the sequences recite, over and over (the tokenizer's leading space joins the end to the start).</summary>
    public const string Passage =
        "Continuous batching lets a server admit new requests at every step, while requests that finish leave at once. "
        + "A prompt that shares its beginning with an earlier one reuses the cached keys and values of that prefix, so only "
        + "the rest of the prompt is computed and the first token comes sooner. When memory runs short, the least recently "
        + "used prefixes are dropped first.";

    /// <summary>The logit of the passage's next token; every other token has 0, so even at temperature 2 another token is drawn about once in a million.</summary>
    private const float ChosenLogit = 40f;

    private readonly SimulatedLatency _latency;
    private readonly StepPacer _pacer;
    private readonly int[] _passage;
    private readonly int[] _cursor;
    private readonly float[] _prefillLogits;
    private float[] _logits = [];
    private bool _firstInStep = true;

    /// <summary>Creates <see cref="SimulatedEngineOptions.MaxSequences"/> rows of <see cref="SimulatedEngineOptions.ContextLength"/> positions.</summary>
    public SimulatedBatchModel(SimulatedEngineOptions options, ITokenizer tokenizer, int vocabSize, StepPacer? pacer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (options.Validate() is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        Options = options;
        VocabSize = vocabSize;
        _latency = new SimulatedLatency(options);
        _pacer = pacer ?? new StepPacer();
        _passage = tokenizer.Encode(Passage, addBos: false);
        _cursor = new int[options.MaxSequences];
        _prefillLogits = new float[vocabSize];
    }

    /// <summary>The latency model and sizes.</summary>
    public SimulatedEngineOptions Options { get; }

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public int Slots => Options.MaxSequences;

    /// <inheritdoc />
    public int Context => Options.ContextLength;

    /// <inheritdoc />
    public bool ComputesEveryRow => false;

    /// <inheritdoc />
    public int KvTokenBudget => Options.KvBudgetTokens;

    /// <inheritdoc />
    public bool TakesPromptTokensInDecodePass => false;

    /// <summary>Prompt tokens computed so far (cached prefix tokens never reach a pass).</summary>
    public long PrefillTokens { get; private set; }

    /// <summary>Decode passes so far.</summary>
    public long DecodePasses { get; private set; }

    /// <summary>The simulated milliseconds asked of the pacer so far: the latency model's total, free of sleep noise.</summary>
    public double SimulatedMilliseconds { get; private set; }

    /// <inheritdoc />
    public float[] Prefill(int row, int length, ReadOnlySpan<int> tokens)
    {
        Pace(_latency.Prefill(_firstInStep, tokens.Length));
        PrefillTokens += tokens.Length;

        // Start the recital where the prompt's last token and length point.
        int position = length + tokens.Length;
        _cursor[row] = (int)((((uint)tokens[^1] * 2654435761u) ^ (uint)position) % (uint)_passage.Length);
        return Logits(row);
    }

    /// <inheritdoc />
    public float[] Forward(int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions)
    {
        if (tokensPerRow != 1 || allPositions)
        {
            throw new NotSupportedException("The simulated model decodes one token per row and returns the last position's logits only.");
        }

        int sequences = 0;
        long kv = 0;
        foreach (int length in lengths)
        {
            if (length >= 0)
            {
                sequences++;
                kv += length + 1;
            }
        }

        Pace(_latency.Decode(_firstInStep, sequences, kv));
        DecodePasses++;
        for (int r = 0; r < lengths.Length; r++)
        {
            if (lengths[r] >= 0)
            {
                int row = firstRow + r;
                _cursor[row] = (_cursor[row] + 1) % _passage.Length;
            }
        }

        return Logits(firstRow, lengths);
    }

    /// <inheritdoc />
    public void EndStep() => _firstInStep = true;

    /// <inheritdoc />
    public void CopyPrefix(int fromRow, int toRow, int positions) => _cursor[toRow] = _cursor[fromRow];

    private void Pace(double milliseconds)
    {
        _firstInStep = false;
        SimulatedMilliseconds += milliseconds;
        _pacer.Wait(milliseconds);
    }

    /// <summary>One row of logits, exactly the vocabulary long, for <paramref name="row"/>'s next passage token.</summary>
    private float[] Logits(int row)
    {
        Array.Clear(_prefillLogits);
        _prefillLogits[_passage[_cursor[row]]] = ChosenLogit;
        return _prefillLogits;
    }

    /// <summary>Logits for each row of a decode pass; rows left out (length −1) get zeros.</summary>
    private float[] Logits(int firstRow, ReadOnlySpan<int> lengths)
    {
        float[] logits = Buffer(lengths.Length);
        for (int r = 0; r < lengths.Length; r++)
        {
            if (lengths[r] >= 0)
            {
                logits[(r * VocabSize) + _passage[_cursor[firstRow + r]]] = ChosenLogit;
            }
        }

        return logits;
    }

    /// <summary>The decode pass's logits buffer, zeroed for <paramref name="rows"/> rows: reused, as the engine reads each pass's logits before the next.</summary>
    private float[] Buffer(int rows)
    {
        int size = rows * VocabSize;
        if (_logits.Length < size)
        {
            _logits = new float[Math.Max(size, Slots * VocabSize)];
        }

        Array.Clear(_logits, 0, size);
        return _logits;
    }
}
