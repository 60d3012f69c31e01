using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Tokenization;

/// <summary>
/// Published templates of each family rendered through the Jinja interpreter, against the output Jinja gives for
/// them (expected strings from transformers' and llama.cpp's chat-template test suites, for the same conversation).
/// </summary>
public sealed class ChatTemplateTests
{
    // Templates as they appear in tokenizer_config.json once JSON-decoded: "\n" inside Jinja strings is a backslash and an n.
    private const string Llama2ChatTemplate =
        @"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    private const string Llama3Template =
        @"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    private const string Llama31TemplateExcerpt =
        "{{- bos_token }}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n{{- system_message }}\n{{- \"<|eot_id|>\" }}\n{%- for message in messages %}\n{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n";

    private const string ChatMLTemplate =
        @"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private const string Qwen15Template =
        @"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content']}}{% if (loop.last and add_generation_prompt) or not loop.last %}{{ '<|im_end|>' + '\n'}}{% endif %}{% endfor %}{% if add_generation_prompt and messages[-1]['role'] != 'assistant' %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private const string Qwen25TemplateExcerpt =
        "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n    {%- endif %}\n{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n";

    private const string Phi3MiniTemplate =
        @"{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";

    private const string Phi3FirstTemplate =
        @"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}";

    private const string Phi3SmallTemplate =
        @"{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";

    private const string ZephyrTemplate =
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    private static readonly ChatMessage[] Pirate =
    [
        ChatMessage.System("You are a friendly chatbot who always responds in the style of a pirate"),
        ChatMessage.User("Hello, how are you?"),
        ChatMessage.Assistant("I'm doing great. How can I help you today?"),
        ChatMessage.User("I'd like to show off how chat templating works!"),
    ];

    // llama.cpp's conversation: note the assistant turn padded with spaces, which trimming templates remove.
    private static readonly ChatMessage[] Conversation =
    [
        ChatMessage.System("You are a helpful assistant"),
        ChatMessage.User("Hello"),
        ChatMessage.Assistant("Hi there"),
        ChatMessage.User("Who are you"),
        ChatMessage.Assistant("   I am an assistant   "),
        ChatMessage.User("Another question"),
    ];

    [Fact]
    public void Render_Llama2Chat_EmbedsSystemInFirstInstAndClosesTurnsWithEos()
    {
        ChatTemplate template = ChatTemplate.Parse(Llama2ChatTemplate, "<s>", "</s>");

        Assert.Equal(
            "<s>[INST] <<SYS>>\nYou are a friendly chatbot who always responds in the style of a pirate\n<</SYS>>\n\nHello, how are you? [/INST] I'm doing great. How can I help you today? </s><s>[INST] I'd like to show off how chat templating works! [/INST]",
            template.Render(Pirate, addGenerationPrompt: true));
    }

    [Fact]
    public void Render_Llama2ChatRolesNotAlternating_ThrowsAsTheTemplateDoes()
    {
        ChatTemplate template = ChatTemplate.Parse(Llama2ChatTemplate, "<s>", "</s>");

        var error = Assert.ThrowsAny<ArgumentException>(() => template.Render([ChatMessage.User("a"), ChatMessage.User("b")]));
        Assert.Contains("alternate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Llama3_TrimsContentAndOpensAssistantHeader()
    {
        ChatTemplate template = ChatTemplate.Parse(Llama3Template, "<|begin_of_text|>", "<|eot_id|>");

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render(Conversation, addGenerationPrompt: true));
        Assert.Equal(["<|eot_id|>"], template.StopTokens);
    }

    [Fact]
    public void Render_Llama31_WritesTheKnowledgeDateHeaderWithTheSystemMessage()
    {
        ChatTemplate template = ChatTemplate.Parse(Llama31TemplateExcerpt, "<|begin_of_text|>", "<|eot_id|>");

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render([ChatMessage.System(" You are a helpful assistant "), ChatMessage.User("Hello")]));
    }

    [Fact]
    public void Render_Llama32WithStrftimeNow_DatesTheHeaderFromTheClock()
    {
        string llama32 = Llama31TemplateExcerpt.Replace("{%- if not date_string is defined %}", "{%- if strftime_now is defined %}{%- set date_string = strftime_now(\"%d %b %Y\") %}{%- endif %}{%- if not date_string is defined %}", StringComparison.Ordinal);
        ChatTemplate template = ChatTemplate.Parse(llama32, "<|begin_of_text|>", "<|eot_id|>", new FixedClock(new DateTimeOffset(2026, 3, 5, 12, 0, 0, TimeSpan.Zero)));

        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 05 Mar 2026\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render([ChatMessage.User("Hi")]));
    }

    [Fact]
    public void Render_ChatML_WrapsEachTurn()
    {
        ChatTemplate template = ChatTemplate.Parse(ChatMLTemplate, null, "<|im_end|>");

        Assert.Equal(
            "<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\nI'm doing great. How can I help you today?<|im_end|>\n<|im_start|>user\nI'd like to show off how chat templating works!<|im_end|>\n",
            template.Render(Pirate[1..], addGenerationPrompt: false));
        Assert.EndsWith("<|im_end|>\n<|im_start|>assistant\n", template.Render(Pirate[1..]), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Qwen15WithoutSystem_AddsItsDefaultSystemPrompt()
    {
        ChatTemplate template = ChatTemplate.Parse(Qwen15Template, null, "<|im_end|>");

        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\nI'm doing great. How can I help you today?<|im_end|>\n<|im_start|>user\nI'd like to show off how chat templating works!<|im_end|>\n<|im_start|>assistant\n",
            template.Render(Pirate[1..], addGenerationPrompt: true));
        Assert.StartsWith("<|im_start|>system\nYou are a friendly chatbot", template.Render(Pirate), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Qwen15WithoutGenerationPrompt_LeavesTheLastTurnOpen()
    {
        ChatTemplate template = ChatTemplate.Parse(Qwen15Template, null, "<|im_end|>");
        ChatMessage[] finished = [ChatMessage.System("S"), ChatMessage.User("U"), ChatMessage.Assistant("A")];

        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA", template.Render(finished, addGenerationPrompt: false));
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n", template.Render(finished, addGenerationPrompt: true));
    }

    [Fact]
    public void Render_Qwen25WithoutSystem_AddsQwensDefaultSystemPrompt()
    {
        ChatTemplate template = ChatTemplate.Parse(Qwen25TemplateExcerpt, null, "<|im_end|>");

        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\nI'm doing great. How can I help you today?<|im_end|>\n<|im_start|>user\nI'd like to show off how chat templating works!<|im_end|>\n",
            template.Render(Pirate[1..], addGenerationPrompt: false));
    }

    [Fact]
    public void Render_Phi3Mini_EndsTurnsWithEndAndOpensAssistant()
    {
        ChatTemplate template = ChatTemplate.Parse(Phi3MiniTemplate, "<s>", "<|endoftext|>");

        Assert.Equal(
            "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n",
            template.Render(Conversation, addGenerationPrompt: true));
        Assert.EndsWith("<|user|>\nAnother question<|end|>\n<|endoftext|>", template.Render(Conversation, addGenerationPrompt: false), StringComparison.Ordinal);
        Assert.Equal(["<|end|>"], template.StopTokens);
    }

    [Fact]
    public void Render_Phi3FirstTemplate_DropsSystemAndAlwaysOpensAssistant()
    {
        ChatTemplate template = ChatTemplate.Parse(Phi3FirstTemplate, "<s>", "<|endoftext|>");

        Assert.Equal(
            "<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n",
            template.Render(Conversation, addGenerationPrompt: false));
    }

    [Fact]
    public void Render_Phi3Small_WritesEveryRoleGenerically()
    {
        ChatTemplate template = ChatTemplate.Parse(Phi3SmallTemplate, "<|endoftext|>", "<|endoftext|>");

        Assert.Equal(
            "<|endoftext|><|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n",
            template.Render(Conversation));
    }

    [Fact]
    public void Render_ZephyrTinyLlamaChat_ClosesTurnsWithEosAndNewline()
    {
        ChatTemplate template = ChatTemplate.Parse(ZephyrTemplate, "<s>", "</s>");

        Assert.Equal(
            "<|system|>\nYou are a friendly chatbot who always responds in the style of a pirate</s>\n<|user|>\nHow many helicopters can a human eat in one sitting?</s>\n<|assistant|>\n",
            template.Render([Pirate[0], ChatMessage.User("How many helicopters can a human eat in one sitting?")]));
    }

    [Fact]
    public void Render_NoTemplate_UsesThePlainFallback()
    {
        ChatTemplate template = ChatTemplate.FromConfig(TokenizerConfig.Empty);

        Assert.Same(ChatTemplate.Plain, template);
        Assert.True(template.EncodeWithBos);
        Assert.Equal(
            "System: Be brief.\nUser: Tell me a story.\nAssistant: Once upon a time.\nUser: Another!\nAssistant:",
            template.Render([ChatMessage.System("Be brief."), ChatMessage.User("Tell me a story."), ChatMessage.Assistant("Once upon a time."), ChatMessage.User("Another!")]));
        Assert.Equal(["\nUser:"], template.StopSequences);
    }

    [Theory]
    [InlineData("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}", "<s>[INST] Hi [/INST]Yo</s>[INST] Bye [/INST]")]
    [InlineData("{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}", "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>assistant\nYo<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n")]
    [InlineData("{% for message in messages %}{{ message.content }}{{ eos_token }}{% endfor %}", "Hi</s>Yo</s>Bye</s>")]
    public void Render_TemplatesOfNoKnownFamily_AreRenderedByTheInterpreter(string template, string expected)
    {
        // These were refused when templates were recognised by family; any template the interpreter parses now renders.
        Assert.Equal(expected, ChatTemplate.Parse(template, "<s>", "</s>").Render([ChatMessage.User("Hi"), ChatMessage.Assistant("Yo"), ChatMessage.User("Bye")]));
    }

    [Fact]
    public void Parse_UnsupportedConstruct_ThrowsNamingItAndItsLine()
    {
        var error = Assert.ThrowsAny<NotSupportedException>(() => ChatTemplate.Parse("{% extends 'chatml.jinja' %}\n{% block turns %}{% endblock %}", "<s>", "</s>"));

        Assert.Contains("extends", error.Message, StringComparison.Ordinal);
        Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StopTokensAndRendersTools_FollowTheTemplateText()
    {
        ChatTemplate llama31 = ChatTemplate.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", "meta-llama-Llama-3.3-70B-Instruct.jinja")), "<|begin_of_text|>", "<|eot_id|>");
        ChatTemplate mistral = ChatTemplate.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", "mistralai-Mistral-Nemo-Instruct-2407.jinja")), "<s>", "</s>");

        Assert.Equal(["<|eot_id|>", "<|eom_id|>"], llama31.StopTokens);
        Assert.Equal(["</s>"], mistral.StopTokens);
        Assert.True(llama31.RendersTools);
        Assert.True(mistral.RendersTools);
        Assert.False(ChatTemplate.Parse(ChatMLTemplate, null, "<|im_end|>").RendersTools);
        Assert.False(ChatTemplate.Plain.RendersTools);
    }

    [Fact]
    public void Render_UnknownRole_Throws()
    {
        Assert.Throws<ArgumentException>(() => ChatTemplate.Parse(ChatMLTemplate, null, null).Render([new ChatMessage("robot", "{}")]));
    }

    [Fact]
    public void FromConfig_TemplateListAndObjectTokens_PicksDefaultTemplateAndContent()
    {
        TokenizerConfig config = TokenizerConfig.Parse(
            """
            {
              "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
              "eos_token": {"__type": "AddedToken", "content": "</s>"},
              "chat_template": [
                {"name": "tool_use", "template": "{{ '<|im_start|>' }}"},
                {"name": "default", "template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"}
              ]
            }
            """);

        Assert.Equal("<s>", config.BosToken);
        Assert.Equal("</s>", config.EosToken);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n", ChatTemplate.FromConfig(config).Render([ChatMessage.User("Hi")], addGenerationPrompt: false));
        Assert.StartsWith("{% for message", config.ChatTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFolder_ChatTemplateJinjaBesideConfig_IsUsedWhenTheConfigHasNone()
    {
        using var temp = TestPaths.CreateTempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}""");
        File.WriteAllText(Path.Combine(temp.Path, "chat_template.jinja"), Llama2ChatTemplate);

        TokenizerConfig config = TokenizerConfig.ReadFolder(temp.Path);

        Assert.Equal(Llama2ChatTemplate, ChatTemplate.FromConfig(config).Source);
        Assert.True(config.AddBosToken);
    }

    [Tok512Fact]
    public void Encode_Llama2TemplateWithTok512Json_EncodesBosTextAsTheBosTokenWithoutAddingAnother()
    {
        using var temp = TestPaths.CreateTempDirectory();
        TokenizerJsonWriter.Write(SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512), temp.Path, 512, Llama2ChatTemplate);
        HuggingFaceTokenizer tokenizer = TokenizerJson.Load(temp.Path);
        ChatTemplate template = ChatTemplate.FromConfig(tokenizer.Config);

        int[] ids = template.Encode(tokenizer, [ChatMessage.User("Hi"), ChatMessage.Assistant("Yo"), ChatMessage.User("Bye")]);

        Assert.Equal(tokenizer.BosId, ids[0]);
        Assert.NotEqual(tokenizer.BosId, ids[1]);
        Assert.Equal(2, ids.Count(id => id == tokenizer.BosId)); // one per user turn, written by the template
        Assert.Single(ids, id => id == tokenizer.EosId);
        // Two spaces: the stretch after </s><s> gets its own dummy-prefix "▁", as in Hugging Face's legacy Llama tokenizer.
        Assert.Equal("[INST] Hi [/INST] Yo  [INST] Bye [/INST]", tokenizer.Decode(ids));
        Assert.Equal(ChatTemplate.Plain.Encode(tokenizer, [ChatMessage.User("Hi")]), tokenizer.Encode("User: Hi\nAssistant:", addBos: true));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
