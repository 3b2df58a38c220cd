export default function Home() {
  return <p>clerk-native next test app</p>
}
