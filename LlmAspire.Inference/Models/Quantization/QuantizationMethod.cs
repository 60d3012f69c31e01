namespace LlmAspire.Inference.Models.Quantization;

/// <summary>How the weights' quantized codes are chosen. Every method writes the same MatMulNBits layout.</summary>
public enum QuantizationMethod
{
    /// <summary>Round to nearest, block by block: no calibration text, the output of the first quantizer byte for byte.</summary>
    Rtn,

    /// <summary>
    /// Activation-aware weight quantization (Lin et al. 2023): input channels that carry large activations are scaled
    /// up before rounding, the inverse folded into the preceding norm or applied to the activation.
    /// </summary>
    Awq,

    /// <summary>
    /// GPTQ (Frantar et al. 2022): input channels quantized one at a time, each one's rounding error compensated in the
    /// channels not yet quantized through the inverse Hessian of the calibration activations.
    /// </summary>
    Gptq,

    /// <summary>
    /// AWQ's channel scaling first, then GPTQ on the scaled weights with the Hessian of the scaled activations
    /// (diag(1/s)·H·diag(1/s)): the scaling moves precision to the channels that matter, the error compensation
    /// then spends what rounding leaves over the later channels.
    /// </summary>
    AwqGptq,
}
