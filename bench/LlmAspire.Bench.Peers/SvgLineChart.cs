using System.Globalization;
using System.Security;
using System.Text;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// A line chart as SVG text, in the look of the CLI's ScottPlot plots (720×440, title, axis labels, ScottPlot's
/// default palette, legend in a corner): x on a log2 axis with a tick at every x given, y linear from 0. A series with
/// one point shows as a marker alone. Written by hand so the peers project needs no plotting package.
/// </summary>
internal static class SvgLineChart
{
    private const int Width = 720, Height = 440, Left = 80, Right = 20, Top = 40, Bottom = 56;
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    /// <summary>The chart's SVG document.</summary>
    /// <param name="title">Above the plot.</param>
    /// <param name="xLabel">Under the x axis.</param>
    /// <param name="yLabel">Beside the y axis.</param>
    /// <param name="xTicks">The x values to mark (positive; the axis spans them).</param>
    /// <param name="series">A name and its (x, y) points each; a series without points is left out of the legend too.</param>
    public static string Render(string title, string xLabel, string yLabel, IReadOnlyList<double> xTicks, IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series)
    {
        var invariant = CultureInfo.InvariantCulture;
        double xMin = Math.Log2(xTicks.Min()), xMax = Math.Log2(xTicks.Max());
        double xPad = Math.Max(0.25, (xMax - xMin) * 0.05);
        xMin -= xPad;
        xMax += xPad;
        double yTop = series.SelectMany(s => s.Points).Select(p => p.Y).DefaultIfEmpty(1).Max();
        double step = NiceStep(yTop / 5);
        double yMax = Math.Ceiling(yTop * 1.05 / step) * step;
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double Px(double x) => Left + ((Math.Log2(x) - xMin) / (xMax - xMin) * plotWidth);
        double Py(double y) => Top + plotHeight - (y / yMax * plotHeight);

        var svg = new StringBuilder();
        svg.Append(invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\">\n");
        svg.Append(invariant, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(invariant, $"<text x=\"{Width / 2}\" y=\"26\" font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\">{Escape(title)}</text>\n");
        for (double y = 0; y <= yMax + (step / 2); y += step)
        {
            svg.Append(invariant, $"<line x1=\"{Left}\" y1=\"{Py(y):F1}\" x2=\"{Width - Right}\" y2=\"{Py(y):F1}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(invariant, $"<text x=\"{Left - 6}\" y=\"{Py(y) + 4:F1}\" font-size=\"12\" text-anchor=\"end\">{y.ToString("#,0.##", invariant)}</text>\n");
        }

        foreach (double x in xTicks)
        {
            svg.Append(invariant, $"<line x1=\"{Px(x):F1}\" y1=\"{Top}\" x2=\"{Px(x):F1}\" y2=\"{Top + plotHeight}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(invariant, $"<text x=\"{Px(x):F1}\" y=\"{Top + plotHeight + 18}\" font-size=\"12\" text-anchor=\"middle\">{x.ToString("G", invariant)}</text>\n");
        }

        svg.Append(invariant, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotWidth}\" height=\"{plotHeight}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(invariant, $"<text x=\"{Left + (plotWidth / 2)}\" y=\"{Height - 12}\" font-size=\"14\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append(invariant, $"<text transform=\"translate(18 {Top + (plotHeight / 2)}) rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");

        var drawn = series.Where(s => s.Points.Count > 0).ToList();
        int legendWidth = 56 + (7 * drawn.Select(s => s.Name.Length).DefaultIfEmpty(0).Max());
        var legend = new StringBuilder();
        legend.Append(invariant, $"<rect x=\"{Left + 6}\" y=\"{Top + 4}\" width=\"{legendWidth}\" height=\"{(drawn.Count * 20) + 4}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n");
        for (int i = 0; i < drawn.Count; i++)
        {
            string color = Palette[i % Palette.Length];
            (double X, double Y)[] points = [.. drawn[i].Points.OrderBy(p => p.X)];
            if (points.Length > 1)
            {
                string path = string.Join(' ', points.Select(p => string.Create(invariant, $"{Px(p.X):F1},{Py(p.Y):F1}")));
                svg.Append(invariant, $"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            }

            foreach ((double x, double y) in points)
            {
                svg.Append(invariant, $"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"4\" fill=\"{color}\"/>\n");
            }

            double legendY = Top + 16 + (i * 20);
            legend.Append(invariant, $"<line x1=\"{Left + 12}\" y1=\"{legendY - 4}\" x2=\"{Left + 36}\" y2=\"{legendY - 4}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            legend.Append(invariant, $"<circle cx=\"{Left + 24}\" cy=\"{legendY - 4}\" r=\"4\" fill=\"{color}\"/>\n");
            legend.Append(invariant, $"<text x=\"{Left + 42}\" y=\"{legendY}\" font-size=\"12\">{Escape(drawn[i].Name)}</text>\n");
        }

        // The legend last, over the lines.
        return svg.Append(legend).Append("</svg>\n").ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(rough, 1e-9))));
        double fraction = rough / power;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    }

    private static string Escape(string text) => SecurityElement.Escape(text);
}
