using System.Security.Cryptography;
using System.Text;

namespace LlmAspire.Inference.Models.Calibration;

/// <summary>
/// The text a compression method (activation-aware quantization, error-compensating quantization, pruning) runs the
/// model over to learn which weights matter: a built-in sample, or the user's file. Deterministic: the same input gives
/// the same documents in the same order, so a compressed folder can be rebuilt byte for byte.
/// </summary>
/// <remarks>
/// The built-in sample is short children's stories in the style of TinyStories (what stories260K was trained on),
/// written for this project. None of it is the text <c>bench quantization</c> or <c>bench compression</c> measure
/// quality on: calibrating on the evaluation text would flatter every calibrated method.
/// </remarks>
public static class CalibrationText
{
    /// <summary>The most bytes of a calibration file read; beyond it the file is refused rather than truncated silently.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    /// <summary>The built-in sample, one story per document.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } =
    [
        "Lily had a small blue kite. One windy morning she ran up the hill with her brother Sam. The kite went up and up until it was a tiny dot in the sky. Sam laughed and clapped. When the wind stopped, the kite came down softly in the grass, and they carried it home for lunch.",
        "There was a little frog who lived in a pond. Every night he sang to the moon. One night a fish asked him why he sang. The frog said, \"The moon is lonely, so I sing for her.\" The fish smiled and swam beside him, and from then on they sang together.",
        "Ben found a shiny rock near the river. He put it in his pocket and showed it to his mom. \"It is pretty,\" she said. \"Where did you find it?\" Ben took her to the river, and they looked for more rocks until the sky turned orange.",
        "A kind old bear lived in the woods. He liked to share his honey with the birds. One cold day the birds could not find food. The bear gave them honey and a warm place in his den. The birds were so happy that they sang for him all winter.",
        "Mia wanted to bake a cake for her dad. She got flour, eggs and milk. Her mom helped her mix them in a big bowl. The cake was a little flat, but Dad said it was the best cake he ever ate. Mia felt proud and gave him a big hug.",
        "The little car was red and fast. It liked to race the other cars on the road. One day it saw a truck stuck in the mud. The little car stopped racing and pulled the truck out. The truck said thank you, and they drove to town together.",
        "Tim and Sue went to the beach. They built a big castle out of sand. A wave came and washed part of it away. Sue was sad, but Tim said, \"Let's build it again, higher this time.\" They worked hard, and the new castle stood until the sun went down.",
        "Once there was a cat named Max who did not like water. When it rained he hid under the bed. One day he saw a rainbow through the window. Max went outside to look at it, and he did not mind the wet grass at all.",
        "Anna had a doll with a yellow dress. She took the doll everywhere: to the shop, to the park and to bed. One day the doll fell in a puddle. Anna washed the dress and hung it in the sun. Soon the doll was clean and happy again.",
        "A tiny seed lay in the dark ground. It was scared because it could not see anything. The rain came and the sun came, and the seed began to grow. One morning it poked out of the ground and saw the blue sky. It had become a flower.",
        "Jack wanted to be a pilot. He made a plane out of a big box and painted wings on it. His sister sat behind him and they flew to faraway lands in their game. When Mom called them for dinner, they landed the plane in the kitchen.",
        "The farmer had three cows, two pigs and one old horse. Every morning the horse woke everyone up. One day the horse was sick and could not make a sound. The cows and pigs were worried, so they brought him hay and stayed with him until he was well.",
        "Sara lost her red mitten in the snow. She looked everywhere, but she could not find it. A little dog came running with something in its mouth. It was her mitten! Sara laughed and patted the dog, and they played in the snow together.",
        "A big owl lived in an old tree. At night he watched over the forest. The little animals were afraid of him at first. But one night he warned them about a fox, and they all got away safe. After that, they called him their friend.",
        "Leo did not want to go to sleep. He wanted to play with his blocks. His dad read him a story about a sleepy lion. By the end of the story, Leo was yawning too. He closed his eyes and dreamed of lions and blocks.",
        "Emma and her grandma planted tomatoes in the garden. Every day Emma gave them water. The plants grew tall and the tomatoes turned red. Grandma made soup with them, and Emma said it was the best soup in the whole world.",
        "One day a duck found a lost ball in the park. He pushed it with his beak all the way to a girl who was crying. The girl smiled and said, \"My ball! Thank you, duck!\" She gave him some bread, and the duck quacked happily.",
        "Nick had a new bike with a bell. He rode it up and down the street, ringing the bell. \"Ring, ring!\" An old man waved at him and smiled. Nick stopped and let the man ring the bell too. They both laughed at the happy sound.",
        "The wind blew the leaves off the trees. Kate and her friend made a big pile of them. They jumped into the pile again and again. The leaves flew everywhere, and their hair was full of red and yellow leaves when they went inside.",
        "A small boat sailed on the lake. A boy named Paul was in it with his uncle. They caught a tiny fish and looked at it for a long time. Then Paul let it go back in the water. \"Grow big,\" he said, and the fish swam away.",
    ];

    /// <summary>
    /// The documents in <paramref name="path"/>: paragraphs separated by blank lines, each trimmed, empty ones dropped.
    /// Throws <see cref="InvalidDataException"/> with a one-line reason when the file has no text, is not UTF-8 text,
    /// or exceeds <see cref="MaxFileBytes"/>.
    /// </summary>
    public static IReadOnlyList<string> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"The calibration file '{path}' does not exist.", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new InvalidDataException($"The calibration file '{path}' has {info.Length:N0} bytes; at most {MaxFileBytes:N0} are read.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"The calibration file '{path}' is not UTF-8 text.");
        }

        IReadOnlyList<string> documents = Split(text);
        if (documents.Count == 0)
        {
            throw new InvalidDataException($"The calibration file '{path}' has no text.");
        }

        return documents;
    }

    /// <summary>The SHA-256 of a calibration file (lower-case hex), which a compressed folder's manifest records.</summary>
    public static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The built-in sample when <paramref name="path"/> is null, else <see cref="ReadFile"/>.</summary>
    public static IReadOnlyList<string> Load(string? path) => path is null ? BuiltIn : ReadFile(path);

    /// <summary>Paragraphs of <paramref name="text"/> (separated by blank lines), trimmed, empty ones dropped.</summary>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var documents = new List<string>();
        var current = new StringBuilder();
        foreach (string line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line.TrimEnd());
        }

        Flush();
        return documents;

        void Flush()
        {
            string document = current.ToString().Trim();
            if (document.Length > 0)
            {
                documents.Add(document);
            }

            current.Clear();
        }
    }
}
