using System.Text;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// Turns a range of code points into the byte-range sequences of its UTF-8 encodings: the sequences are disjoint,
/// so an automaton built from them stays deterministic (the construction of Rust's regex-syntax <c>Utf8Sequences</c>).
/// </summary>
internal static class Utf8Ranges
{
    /// <summary>The sequences, each 1 to 4 inclusive byte ranges, in ascending order of code point.</summary>
    public static List<(byte Lo, byte Hi)[]> Split(int first, int last)
    {
        var result = new List<(byte Lo, byte Hi)[]>();
        var stack = new Stack<(int Start, int End)>();
        stack.Push((first, last));
        Span<byte> a = stackalloc byte[4];
        Span<byte> b = stackalloc byte[4];
        while (stack.Count > 0)
        {
            (int start, int end) = stack.Pop();
            while (true)
            {
                bool again = false;

                // Surrogates have no encoding.
                if (start <= 0xDFFF && end >= 0xD800)
                {
                    if (end > 0xDFFF)
                    {
                        stack.Push((0xE000, end));
                    }

                    if (start >= 0xD800)
                    {
                        break;
                    }

                    end = 0xD7FF;
                }

                // One encoded length at a time.
                foreach (int max in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
                {
                    if (start <= max && max < end)
                    {
                        stack.Push((max + 1, end));
                        end = max;
                        again = true;
                        break;
                    }
                }

                if (again)
                {
                    continue;
                }

                if (end <= 0x7F)
                {
                    result.Add([((byte)start, (byte)end)]);
                    break;
                }

                // Continuation bytes must each cover a whole 0x80-0xBF span except at the ends.
                for (int i = 1; i < 4 && !again; i++)
                {
                    int m = (1 << (6 * i)) - 1;
                    if ((start & ~m) != (end & ~m))
                    {
                        if ((start & m) != 0)
                        {
                            stack.Push(((start | m) + 1, end));
                            end = start | m;
                            again = true;
                        }
                        else if ((end & m) != m)
                        {
                            stack.Push((end & ~m, end));
                            end = (end & ~m) - 1;
                            again = true;
                        }
                    }
                }

                if (again)
                {
                    continue;
                }

                int n = new Rune(start).EncodeToUtf8(a);
                new Rune(end).EncodeToUtf8(b);
                var sequence = new (byte, byte)[n];
                for (int i = 0; i < n; i++)
                {
                    sequence[i] = (a[i], b[i]);
                }

                result.Add(sequence);
                break;
            }
        }

        return result;
    }
}
