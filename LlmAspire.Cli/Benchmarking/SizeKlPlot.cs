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
        svg.Append(c, $"<text x=\"{Px(50) + 4:F1}\" y=\"{Top + 14}\" font-size=\"11\" fill=\"#2a9d8f\">yardstick: −50 % size</text>\n");
        svg.Append(c, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotWidth}\" height=\"{plotHeight}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(c, $"<text x=\"{Left + plotWidth / 2}\" y=\"{Height - 12}\" font-size=\"13\" text-anchor=\"middle\">model bytes, % of fp32</text>\n");
        svg.Append(c, $"<text transform=\"translate(18 {Top + plotHeight / 2}) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">mean KL from fp32, nats/token (log)</text>\n");
        foreach ((string name, double size, double kl) in points)
        {
            double x = Px(size), y = Py(kl);
            string label = kl > 0 ? name : name + " (KL 0)";
            string colour = name.Contains("prune", StringComparison.Ordinal) ? "#e76f51" : "#264653";
            svg.Append(c, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"4\" fill=\"{colour}\"/>\n");
            svg.Append(c, $"<text x=\"{x + 6:F1}\" y=\"{y - 5:F1}\" font-size=\"10\" fill=\"{colour}\">{Escape(label)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
