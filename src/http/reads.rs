//! Which database a request reads from when a standby is configured (`db::standby`): a GET or
//! HEAD may read there unless its caller wrote through this instance within the window; a
//! successful write starts that window.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::AppState;

pub async fn route_reads(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(standby) = state.pool.standby() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let caller = super::rate_limit::caller(&req, &state);
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let may_read_standby = standby.may_serve(&caller);
        return Ok(crate::db::standby::scope(may_read_standby, next.call(req)).await?.map_into_boxed_body());
    }
    let res = next.call(req).await?;
    if res.status().is_success() {
        standby.wrote(&caller);
    }
    Ok(res.map_into_boxed_body())
}
