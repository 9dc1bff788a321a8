use rocket_flask_jwt::jwt_required;

#[jwt_required]
struct Protected;

fn main() {
    let _ = Protected;
}
