//! The keys of `testdata/keys` (test keys only) and the list of algorithms, for the unit tests.

pub(crate) const RSA_PRIVATE: &str = include_str!("../../testdata/keys/rsa_private.pem");
pub(crate) const RSA_PUBLIC: &str = include_str!("../../testdata/keys/rsa_public.pem");
pub(crate) const RSA2_PUBLIC: &str = include_str!("../../testdata/keys/rsa2_public.pem");
pub(crate) const RSA_JWK: &str = include_str!("../../testdata/keys/rsa_public.jwk.json");
pub(crate) const RSA_PKCS1_DER: &[u8] = include_bytes!("../../testdata/keys/rsa_public_pkcs1.der");
pub(crate) const EC_PRIVATE: &str = include_str!("../../testdata/keys/ec_private.pem");
pub(crate) const EC_PUBLIC: &str = include_str!("../../testdata/keys/ec_public.pem");
pub(crate) const EC2_PUBLIC: &str = include_str!("../../testdata/keys/ec2_public.pem");
pub(crate) const EC384_PRIVATE: &str = include_str!("../../testdata/keys/ec384_private.pem");
pub(crate) const EC384_PUBLIC: &str = include_str!("../../testdata/keys/ec384_public.pem");
pub(crate) const ED_PRIVATE: &str = include_str!("../../testdata/keys/ed_private.pem");
pub(crate) const ED_PUBLIC: &str = include_str!("../../testdata/keys/ed_public.pem");

/// Every algorithm the library verifies, for the tests that run each.
pub(crate) const ALL_ALGORITHMS: [jsonwebtoken::Algorithm; 12] = {
    use jsonwebtoken::Algorithm::*;
    [
        HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,
    ]
};
