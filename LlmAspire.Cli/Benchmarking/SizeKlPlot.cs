using System.Globalization;
using System.Security;
using System.Text;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// The over-compression plot of <c>bench compression</c>: one labelled point per variant, size in % of float32 (x,
/// linear) against mean KL from float32 (y, log scale, since KL spans 1e-4 to several nats). Written as plain SVG
/// because ScottPlot's log axes need the data pre-transformed and relabelled, which is more code than the chart.
/// Float32 itself (KL 0) sits on the bottom edge, labelled so. A dashed line marks the yardstick's size, 50 % of float32.
/// </summary>
internal static class SizeKlPlot
{
    private const int Width = 760, Height = 480, Left = 70, Right = 30, Top = 50, Bottom = 55;

    /// <summary>Width of one character of the 10 px labels, a little over sans-serif's average, for the overlap test.</summary>
    private const double LabelCharWidth = 5.8;

    /// <summary>Writes the plot of <paramref name="points"/> (name, % of float32 bytes, mean KL) to <paramref name="path"/>.</summary>
    public static void Write(string path, string title, IReadOnlyList<(string Name, double SizePercent, double Kl)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        File.WriteAllText(path, Render(title, points));
    }

    /// <summary>The SVG document.</summary>
    public static string Render(string title, IReadOnlyList<(string Name, double SizePercent, double Kl)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var c = CultureInfo.InvariantCulture;
        double[] positive = [.. points.Select(p => p.Kl).Where(k => k > 0 && double.IsFinite(k))];
        int lowDecade = positive.Length == 0 ? -4 : (int)Math.Floor(Math.Log10(positive.Min())) - 1;
        int highDecade = positive.Length == 0 ? 1 : Math.Max(lowDecade + 2, (int)Math.Ceiling(Math.Log10(positive.Max())));
        double maxX = Math.Max(110, Math.Ceiling(points.Select(p => p.SizePercent).DefaultIfEmpty(100).Max() / 10) * 10 + 10);
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double Px(double x) => Left + x / maxX * plotWidth;
        double Py(double kl)
        {
            double log = kl > 0 ? Math.Clamp(Math.Log10(kl), lowDecade, highDecade) : lowDecade;
            return Top + plotHeight - (log - lowDecade) / (highDecade - lowDecade) * plotHeight;
        }

        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\">\n");
        svg.Append(c, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(c, $"<text x=\"{Width / 2}\" y=\"28\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">{Escape(title)}</text>\n");
        for (int d = lowDecade; d <= highDecade; d++)
        {
            double y = Py(Math.Pow(10, d));
            svg.Append(c, $"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(c, $"<text x=\"{Left - 6}\" y=\"{y + 4:F1}\" font-size=\"12\" text-anchor=\"end\">1e{d}</text>\n");
        }

        for (double x = 0; x <= maxX; x += 10)
        {
            svg.Append(c, $"<line x1=\"{Px(x):F1}\" y1=\"{Top}\" x2=\"{Px(x):F1}\" y2=\"{Top + plotHeight}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(c, $"<text x=\"{Px(x):F1}\" y=\"{Top + plotHeight + 18}\" font-size=\"12\" text-anchor=\"middle\">{x:0}</text>\n");
        }

        svg.Append(c, $"<line x1=\"{Px(50):F1}\" y1=\"{Top}\" x2=\"{Px(50):F1}\" y2=\"{Top + plotHeight}\" stroke=\"#2a9d8f\" stroke-dasharray=\"6 4\"/>\n");
        svg.Append(c, $"<text x=\"{Px(50) + 4:F1}\" y=\"{Top + plotHeight - 6}\" font-size=\"11\" fill=\"#2a9d8f\">yardstick: −50 % size</text>\n");
        svg.Append(c, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotWidth}\" height=\"{plotHeight}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(c, $"<text x=\"{Left + plotWidth / 2}\" y=\"{Height - 12}\" font-size=\"13\" text-anchor=\"middle\">model bytes, % of fp32</text>\n");
        svg.Append(c, $"<text transform=\"translate(18 {Top + plotHeight / 2}) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">mean KL from fp32, nats/token (log)</text>\n");
        var taken = new List<(double X0, double Y0, double X1, double Y1)>();
        foreach ((_, double size, double kl) in points)
        {
            double x = Px(size), y = Py(kl);
            taken.Add((x - 4, y - 4, x + 4, y + 4));
        }

        foreach ((string name, double size, double kl) in points)
        {
            double x = Px(size), y = Py(kl);
            string label = kl > 0 ? name : name + " (KL 0)";
            string colour = name.Contains("prune", StringComparison.Ordinal) ? "#e76f51" : "#264653";
            (double lx, double ly, bool end) = PlaceLabel(x, y, label.Length * LabelCharWidth, taken);
            if (Math.Abs(ly - y) > 6)
            {
                // A label off to the side of its point gets a faint leader, so neighbouring points cannot be confused.
                svg.Append(c, $"<line x1=\"{x:F1}\" y1=\"{y:F1}\" x2=\"{lx:F1}\" y2=\"{(ly > y ? ly - 9 : ly + 1):F1}\" stroke=\"{colour}\" stroke-opacity=\"0.5\"/>\n");
            }

            svg.Append(c, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"4\" fill=\"{colour}\"/>\n");
            svg.Append(c, $"<text x=\"{lx:F1}\" y=\"{ly:F1}\" font-size=\"10\" fill=\"{colour}\"{(end ? " text-anchor=\"end\"" : "")}>{Escape(label)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>
    /// The first of a few spots around the point (right, then left, above, then below, then further out) where the
    /// label, <paramref name="width"/> pixels wide, overlaps no point or earlier label and stays inside the chart;
    /// the plain spot to the right when none is free. Returns the text anchor point and whether it is anchored at its end.
    /// </summary>
    private static (double X, double Y, bool End) PlaceLabel(double x, double y, double width, List<(double X0, double Y0, double X1, double Y1)> taken)
    {
        (double Dx, double Dy, bool End)[] spots =
        [
            (6, -5, false), (6, 13, false), (-6, -5, true), (-6, 13, true),
            (6, -17, false), (6, 25, false), (-6, -17, true), (-6, 25, true),
            (6, -29, false), (6, 37, false), (-6, -29, true), (-6, 37, true),
        ];
        foreach ((double dx, double dy, bool end) in spots)
        {
            double x0 = end ? x + dx - width : x + dx, y1 = y + dy + 2, y0 = y1 - 11;
            (double X0, double Y0, double X1, double Y1) box = (x0, y0, x0 + width, y1);
            bool inside = box.X0 >= Left && box.X1 <= Width - Right && box.Y0 >= Top && box.Y1 <= Top + (Height - Top - Bottom);
            if (inside && !taken.Any(t => box.X0 < t.X1 && t.X0 < box.X1 && box.Y0 < t.Y1 && t.Y0 < box.Y1))
            {
                taken.Add(box);
                return (x + dx, y + dy, end);
            }
        }

        return (x + 6, y - 5, false);
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
