// Expected failures of a system call become a JS Error carrying `errno` and `syscall`;
// src/native turns it into a typed SystemError. TypeError is for programming errors only.
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tsrun::napi {

inline Napi::Error errno_error(Napi::Env env, const char* syscall, int err,
                               const std::string& detail = "") {
  std::string msg = std::string(syscall) + ": " + std::strerror(err);
  if (!detail.empty()) msg += ": " + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("detail", Napi::String::New(env, detail));
  return e;
}

inline int int_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  return info[i].As<Napi::Number>().Int32Value();
}

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

void register_spawn(Napi::Env env, Napi::Object exports);
void register_exits(Napi::Env env, Napi::Object exports);
void register_fs(Napi::Env env, Napi::Object exports);
void register_clock(Napi::Env env, Napi::Object exports);
void register_pty(Napi::Env env, Napi::Object exports);
void register_bpf(Napi::Env env, Napi::Object exports);
void register_eventfd(Napi::Env env, Napi::Object exports);
void register_seccomp(Napi::Env env, Napi::Object exports);
void register_spare(Napi::Env env, Napi::Object exports);
void register_seccomp_agent(Napi::Env env, Napi::Object exports);
void register_shim(Napi::Env env, Napi::Object exports);
void register_channel(Napi::Env env, Napi::Object exports);
void register_dbus(Napi::Env env, Napi::Object exports);
void register_cli_server(Napi::Env env, Napi::Object exports);

}  // namespace tsrun::napi
