use rocket_flask_jwt_macros::jwt_required;

#[jwt_required]
fn protected() -> &'static str {
    "secret"
}

fn main() {
    let _ = protected();
}
