//! Image uploads: the four accepted types, recognised by the `Content-Type` a client declares
//! and by the bytes themselves (their magic numbers), and the size limit.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::validate::spec::{Choice, Integer};
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

/// The largest image accepted: 5 MiB.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// An accepted image type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageType {
    pub const ALL: [ImageType; 4] = [
        ImageType::Jpeg,
        ImageType::Png,
        ImageType::Webp,
        ImageType::Gif,
    ];

    /// The type a `Content-Type` header value declares: its media type, compared
    /// case-insensitively, parameters ignored. `None` for anything else.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim();
        Self::ALL
            .into_iter()
            .find(|kind| essence.eq_ignore_ascii_case(kind.mime()))
    }

    /// The type `bytes` are, by their leading signature; `None` when they are none of the four.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageType::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            // RIFF, a 4-byte little-endian size, then the form type.
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    /// The media type, as stored with the object and served back.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
            ImageType::Gif => "image/gif",
        }
    }

    /// The extension of generated keys (from which a key's type is known again).
    pub fn extension(self) -> &'static str {
        match self {
            ImageType::Jpeg => "jpg",
            ImageType::Png => "png",
            ImageType::Webp => "webp",
            ImageType::Gif => "gif",
        }
    }
}

/// The media types of the accepted images, as `POST /images/{bucket}/uploads` names them.
pub const MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

pub const UPLOAD_CONTENT_TYPE: Spec<Choice> = Spec {
    name: "contentType",
    presence: Presence::Required,
    rule: Choice(&MEDIA_TYPES),
    doc: "The image's type: the upload must send exactly this `Content-Type`",
    example: "\"image/jpeg\"",
};
pub const UPLOAD_SIZE: Spec<Integer> = Spec {
    name: "size",
    presence: Presence::Required,
    rule: Integer {
        min: 1,
        max: MAX_IMAGE_BYTES as i64,
    },
    doc: "The image's size in bytes (at most 5 MiB): the upload must send exactly this many",
    example: "245760",
};

/// The body of `POST /images/{bucket}/uploads`.
pub static UPLOAD_BODY: Body = Body {
    fields: &[&UPLOAD_CONTENT_TYPE, &UPLOAD_SIZE],
    unknown: Unknown::Deny,
    doc: "The image to be uploaded straight to the object store.",
};

/// A `POST /images/{bucket}/uploads` body, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadRequest {
    pub kind: ImageType,
    pub size: u64,
}

crate::body_schema!(
    UploadRequest,
    "ImageUploadRequest",
    UPLOAD_BODY,
    Mode::Create
);

impl UploadRequest {
    pub fn read(body: &Value) -> Result<Self> {
        let mut fields = Fields::of_body(body, &UPLOAD_BODY, Mode::Create)?;
        let kind = fields
            .read(&UPLOAD_CONTENT_TYPE)
            .value()
            .and_then(ImageType::from_content_type);
        let size = fields
            .read(&UPLOAD_SIZE)
            .value()
            .and_then(|size| u64::try_from(size).ok());
        fields.finish()?;
        match (kind, size) {
            (Some(kind), Some(size)) => Ok(Self { kind, size }),
            _ => Err(Error::internal(
                "an upload passed validation without its type or size",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::ids::{ObjectKey, content_type_for};

    /// The smallest leading bytes of each type.
    fn signature(kind: ImageType) -> &'static [u8] {
        match kind {
            ImageType::Jpeg => b"\xFF\xD8\xFF",
            ImageType::Png => b"\x89PNG\r\n\x1a\n",
            ImageType::Webp => b"RIFF\x24\x00\x00\x00WEBP",
            ImageType::Gif => b"GIF89a",
        }
    }

    #[test]
    fn declared_types_are_the_four_media_types() {
        assert_eq!(
            ImageType::from_content_type("image/png"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::from_content_type("IMAGE/JPEG; charset=binary"),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::from_content_type(" image/webp "),
            Some(ImageType::Webp)
        );
        for other in [
            "",
            "image/jpg",
            "image/svg+xml",
            "image/png2",
            "application/octet-stream",
            "text/plain",
            "image/",
            "png",
        ] {
            assert_eq!(ImageType::from_content_type(other), None, "{other:?}");
        }
    }

    #[test]
    fn real_headers_are_recognised() {
        let cases: [(&[u8], ImageType); 5] = [
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", ImageType::Jpeg),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ImageType::Png),
            (b"GIF87a\x01\x00\x01\x00", ImageType::Gif),
            (b"GIF89a\x01\x00\x01\x00", ImageType::Gif),
            (b"RIFF\x1a\x00\x00\x00WEBPVP8L", ImageType::Webp),
        ];
        for (bytes, kind) in cases {
            assert_eq!(ImageType::detect(bytes), Some(kind));
        }
    }

    #[test]
    fn other_bytes_are_no_image() {
        let cases: [&[u8]; 9] = [
            b"",
            b"\xFF\xD8",
            b"\x89PNG\r\n\x1a",
            b"GIF88a",
            b"RIFF\x1a\x00\x00\x00WAVEfmt ",
            b"RIFF\x1a\x00\x00\x00WEB",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"%PDF-1.7",
            b"{\"image\": true}",
        ];
        for bytes in cases {
            assert_eq!(ImageType::detect(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn generated_keys_are_served_with_their_type() {
        for kind in ImageType::ALL {
            let key = ObjectKey::generate("user-1", kind.extension()).unwrap();
            assert_eq!(content_type_for(&key), kind.mime());
        }
    }

    fn any_type() -> impl Strategy<Value = ImageType> {
        prop::sample::select(ImageType::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_signature_decides_the_type_whatever_follows(
            kind in any_type(),
            rest in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = signature(kind).to_vec();
            bytes.extend(rest);
            prop_assert_eq!(ImageType::detect(&bytes), Some(kind));
        }

        #[test]
        fn detection_only_claims_what_the_bytes_start_with(
            bytes in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            if let Some(kind) = ImageType::detect(&bytes) {
                let signature = signature(kind);
                match kind {
                    // The RIFF size differs per file: compare around it.
                    ImageType::Webp => {
                        prop_assert_eq!(&bytes[..4], &signature[..4]);
                        prop_assert_eq!(&bytes[8..12], &signature[8..12]);
                    }
                    ImageType::Gif => prop_assert!(bytes.starts_with(b"GIF8") && bytes[5] == b'a'),
                    _ => prop_assert!(bytes.starts_with(signature)),
                }
            }
        }

        #[test]
        fn declared_types_ignore_case_and_parameters(
            kind in any_type(),
            upper in prop::collection::vec(any::<bool>(), 10),
            parameter in "[a-z]{1,8}=[a-z0-9]{0,8}",
        ) {
            let mixed: String = kind
                .mime()
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            prop_assert_eq!(ImageType::from_content_type(&mixed), Some(kind));
            let with_parameter = format!("{mixed}; {parameter}");
            prop_assert_eq!(ImageType::from_content_type(&with_parameter), Some(kind));
        }
    }
}
