// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "labctl",
    products: [
        .library(name: "WGNetlink", targets: ["WGNetlink"]),
        .library(name: "VRRP", targets: ["VRRP"]),
        .library(name: "SelfMapPaging", targets: ["SelfMapPaging"]),
        .library(name: "DeviceInfo", targets: ["DeviceInfo"]),
        .executable(name: "labctl", targets: ["labctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibMNL",
            pkgConfig: "libmnl",
            providers: [.apt(["libmnl-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(name: "CLinuxShims"),
        .systemLibrary(
            name: "CDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        .target(
            name: "WGNetlink",
            dependencies: [
                "CLibMNL", "CSodium",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "VRRP",
            dependencies: [
                "CLinuxShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(name: "SelfMapPaging"),
        .target(
            name: "DeviceInfo",
            dependencies: [
                "CDeflate", "CLinuxShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "labctl",
            dependencies: [
                "WGNetlink", "VRRP", "SelfMapPaging", "DeviceInfo", "CLinuxShims",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "WGNetlinkTests", dependencies: ["WGNetlink", "CLinuxShims"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP"]),
        .testTarget(name: "SelfMapPagingTests", dependencies: ["SelfMapPaging"]),
        .testTarget(name: "DeviceInfoTests", dependencies: ["DeviceInfo"]),
        .testTarget(name: "labctlTests", dependencies: ["labctl", "WGNetlink"], exclude: ["VM", "Fixtures", "Scripts"]),
    ]
)
