use rocket_flask_jwt_macros::jwt_required;

#[jwt_required]
struct Protected;

fn main() {
    let _ = Protected;
}
