namespace LlmAspire.ModelServer.Telemetry.Prometheus;

/// <summary>A double updated without locks: its bits live in a long changed with compare-and-swap.</summary>
internal struct AtomicDouble
{
    private long _bits;

    public readonly double Value => BitConverter.Int64BitsToDouble(Volatile.Read(in _bits));

    public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));

    public void Add(double amount)
    {
        long seen = Volatile.Read(ref _bits);
        while (true)
        {
            var next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + amount);
            var actual = Interlocked.CompareExchange(ref _bits, next, seen);
            if (actual == seen)
            {
                return;
            }

            seen = actual;
        }
    }
}
