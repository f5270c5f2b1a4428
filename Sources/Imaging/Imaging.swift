/// The `Imaging` module: decoding (through `CImageCodecs`), resizing, cropping,
/// augmentation and normalisation of images. See README.md, "Targets".
import CImageCodecs
