namespace LlmAspire.ServiceDefaults; internal static class Placeholder { }
